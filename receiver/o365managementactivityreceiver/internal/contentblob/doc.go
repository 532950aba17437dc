// Package contentblob splits an Office 365 Management Activity API content
// blob into its audit records.
//
// A content blob is one JSON array of records, often tens of thousands of
// them and over a hundred megabytes. The receiver turns each record into one
// log record whose body is the record's JSON text exactly as the API sent
// it, so that a processor downstream reads it the way it reads a line the
// filelog receiver took from a file. Decoding the blob with encoding/json
// would hold all of it, re-encode every record and cost far more than
// reading a file does; a Reader instead reads the blob incrementally,
// validates its structure, and hands out each record as a slice of its own
// buffer, so a blob of any size is held about one record at a time and a
// record costs no allocation.
//
// # What is checked
//
// The Reader checks the whole JSON grammar (RFC 8259), except UTF-8: the
// blob must be one array, opened by '[' after optional whitespace, its
// elements separated by single commas (none trailing), closed by ']', with
// only whitespace (space, tab, CR, LF) after it; a byte order mark is not
// whitespace. Each element, a record, must be one JSON value: objects with
// string keys, colons and commas; strings whose escapes are the JSON ones
// (\u with four hex digits) and which hold no control characters; numbers
// in the JSON grammar, -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?;
// true, false and null; brackets that match. A record may nest 10000
// levels deep, as encoding/json lets a value, and may be at most
// MaxRecordSize bytes.
//
// Not checked: that strings are valid UTF-8 (bytes that are not pass
// through, as encoding/json lets them, decoding them to U+FFFD); that
// surrogate escapes pair up; that keys are unique; that numbers fit any
// type; that records are objects, or audit records at all. Anything the
// Reader returns is a record encoding/json decodes, and a blob it reads to
// the end is one encoding/json decodes as an array.
//
// Fields reads the two members the receiver needs from a record (its Id,
// for de-duplication, and its CreationTime, for the log record's timestamp)
// without decoding the rest.
package contentblob // import "github.com/o365detect/o365detect/receiver/o365managementactivityreceiver/internal/contentblob"
