// How one column's values travel from the source to the destination, faithfully.
//
// Rows are read in the source's text form (MySQL's text protocol; PostgreSQL's output
// functions, with UTC, ISO dates and shortest-round-trip floats set on every session) and
// written in one of the destination's forms (Format): PostgreSQL COPY text, MySQL LOAD DATA
// text, or MySQL-family SQL literals. Most values need nothing
// but escaping; the plan of a column says what else: booleans from tinyint(1), MySQL bit
// values as bit strings, SET members as arrays, binary strings as bytea, zero dates as the
// type map's `zero_dates` says. A value that cannot be carried is an error naming why.
#pragma once

#include <string>

#include "compiler/ir.h"
#include "runtime/connection.h"
#include "runtime/mapping.h"

namespace ferry::runtime {

struct ValuePlan {
  enum class Kind {
    kAsIs,           // text that the destination reads as it is
    kIntToBool,      // MySQL tinyint(1) / bit(1) → PostgreSQL boolean
    kPgBoolToInt,    // PostgreSQL boolean → MySQL tinyint(1)
    kBitsToPgBits,   // MySQL bit(n), selected as a 0/1 string → PostgreSQL bit varying
    kPgBitsToMysql,  // PostgreSQL bit string → MySQL bit(n) (b'…')
    kSetToArray,     // MySQL SET "a,b" → PostgreSQL text[] {"a","b"}
    kBytesToBytea,   // MySQL binary bytes → PostgreSQL bytea (\x…)
    kByteaToBytes,   // PostgreSQL bytea (\x…) → MySQL binary (0x…)
    kBytesToMysql,   // MySQL binary bytes → MySQL (0x…)
    kPgZonedToMysql, // PostgreSQL timestamptz/timetz in UTC → MySQL without the +00
    kPgRealToMysql,  // PostgreSQL real → MySQL float: the float's exact value as a double, which
                     // MySQL reads back to the same float (its shortest form may exceed FLT_MAX)
  };
  Kind kind = Kind::kAsIs;
  // MySQL family → PostgreSQL: the value's form in COPY's binary format, which PostgreSQL reads
  // with a quarter less work than text; kNone where the column can only go as text.
  enum class Binary { kNone, kInt2, kInt4, kInt8, kNumeric, kFloat4, kFloat8, kBool, kText, kJson, kJsonb, kBytea,
                      kDate, kTimestamp };
  Binary binary = Binary::kNone;
  bool date = false;                     // a MySQL date/datetime/timestamp (zero dates possible)
  ir::ZeroDates zero_dates = ir::ZeroDates::kUnset;
  std::string select;                    // the source expression that reads the column
  // MySQL-family LOAD DATA: the expression that turns the field (the `{}`) into the column's
  // value, for a field that is not the value as it is ("UNHEX({})" for binary); else empty.
  std::string load_set;
};

enum class Format {
  kCopyText,    // PostgreSQL COPY text: \N for NULL, backslash escapes
  kLoadData,    // MySQL LOAD DATA with tab-separated fields and backslash escapes (\0 for NUL)
  kSqlLiteral,  // MySQL-family SQL literals, for INSERT … VALUES
  kCopyBinary,  // PostgreSQL COPY binary: a field's length, then its bytes (ValuePlan::binary)
};

// COPY's binary format around the fields: the stream's header, a row's field count, the trailer.
void AppendCopyBinaryHeader(std::string* out);
void AppendCopyBinaryRow(size_t fields, std::string* out);
void AppendCopyBinaryTrailer(std::string* out);

ValuePlan PlanValue(ir::Engine from, ir::Engine to, const ColumnMapping& column, ir::ZeroDates zero_dates);

// Whether MySQL's text of a date or datetime is a zero date: 0000-00-00, or a partial one
// (2024-00-10, 2024-05-00), which zero_dates governs.
bool ZeroDate(std::string_view value);

// A MySQL spatial type (geometry, point, …, geomcollection): its values are bytes, an SRID and
// then WKB, loaded into bytea as they are and compared as binary.
bool IsMysqlSpatial(std::string_view type_name);

// Appends one value in the form given. Fails, saying why, for a value the destination cannot
// hold (a NUL byte in PostgreSQL text, a zero date under zero_dates = error, 2 in a column
// mapped to boolean …).
Status AppendValue(const ValuePlan& plan, std::optional<std::string_view> value, Format format, std::string* out);

// PostgreSQL to PostgreSQL: whether the column can travel in COPY's binary form, which both
// servers read and write faster than text (a quarter less work for COPY FROM on the benchmark's
// tables). Only for a built-in type, or an array of one, that the destination column has too: a
// binary array names its element type by OID, which differs between servers for a user's type,
// and a binary value must be of the column's exact type.
bool PgBinaryCopySafe(const ColumnMapping& column);

// Counts the rows of a PostgreSQL binary COPY stream (header, tuples, trailer), fed in pieces of
// any size; an error for a stream that is not one.
class BinaryCopyRows {
 public:
  // The rows that end in `bytes`.
  StatusOr<int64_t> Feed(std::string_view bytes);
  bool ended() const { return state_ == State::kEnd; }

 private:
  enum class State { kSignature, kHeaderExtension, kFieldCount, kFieldLength, kFieldData, kEnd };
  State state_ = State::kSignature;
  std::string number_;      // the bytes so far of the fixed-size part being read
  int64_t skip_ = 0;        // bytes of a field's value or of the header extension left to skip
  int fields_left_ = 0;
};

}  // namespace ferry::runtime
