// Package idx reads and writes IDX files, the simple binary array format
// in which MNIST and Fashion-MNIST are distributed, and loads those data
// sets.
//
// # Format
//
// An IDX file is a header followed by a payload:
//
//	byte 0, 1   zero
//	byte 2      element type code (see [Type])
//	byte 3      number of dimensions d, 1..255
//	d x uint32  the size of each dimension, big-endian
//	payload     the elements in row-major order, big-endian
//
// The 4-byte prefix read as a big-endian integer is the file's "magic
// number": 0x00000803 for MNIST images (u8, 3 dimensions) and 0x00000801
// for MNIST labels (u8, 1 dimension).
//
// # Reading
//
// [Read] and [ReadFile] accept plain and gzip-compressed input; compression
// is recognised from the content (the gzip magic 1F 8B), never from a file
// name. Validation is strict: a bad magic, an unknown type code, zero
// dimensions, a payload shorter or longer than the header declares, or a
// gzip stream that is corrupt anywhere up to its end is an error. Errors
// name the file and say what was expected and what was found; format
// problems are reported as [*FormatError].
//
// A header may claim far more data than the input holds. Reading never
// trusts it for memory: a header declaring more than [Options.MaxElements]
// elements fails at once, and below that limit the result buffer grows only
// as payload bytes actually arrive, so a short hostile input costs memory
// proportional to its real size. [ReadFile] also allocates the result in one
// piece when the file's size vouches for the header (exact size for a plain
// file; for gzip, the ISIZE trailer matches and the payload is within
// deflate's 1032:1 maximum expansion of the file size).
//
// # Writing
//
// [Write] encodes an [Array]; [WriteFile] does so atomically (temporary file
// in the destination directory, fsync, rename), optionally gzip-compressed.
//
// # MNIST
//
// [ReadImages] and [ReadLabels] read one file and check that it has the role
// asked for; [LoadSet] pairs an images file with its labels file and checks
// counts and label range; [LoadDir] finds and loads the four standard files
// of MNIST or Fashion-MNIST in a directory. Fetching the canonical MNIST
// files is the job of the subpackage mnistdata.
package idx
