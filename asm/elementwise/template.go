package main

import (
	"fmt"
	"strings"
)

// sprintfDoc fills a kernel's doc template: %[1]s is the function name, %[2]s the
// instruction set.
func sprintfDoc(doc, name, isaName string) string {
	return fmt.Sprintf(doc, name, isaName)
}

// splitLines turns a doc template into comment lines, dropping the first and last
// empty line of a raw string literal.
func splitLines(doc string) []string {
	doc = strings.TrimPrefix(doc, "\n")
	doc = strings.TrimSuffix(doc, "\n")
	return strings.Split(doc, "\n")
}
