#include "runtime/load/values.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <set>

#include "compiler/type_pattern.h"
#include "runtime/sql.h"

namespace ferry::runtime {

namespace {

// COPY text and LOAD DATA text: backslash, tab, newline and carriage return escaped, the same
// way for both; NUL (which only LOAD DATA can carry) as \0.
void AppendEscaped(std::string_view v, std::string* out) {
  size_t plain = 0;
  for (size_t i = 0; i < v.size(); ++i) {
    const char* esc;
    switch (v[i]) {
      case '\\': esc = "\\\\"; break;
      case '\t': esc = "\\t"; break;
      case '\n': esc = "\\n"; break;
      case '\r': esc = "\\r"; break;
      case '\0': esc = "\\0"; break;
      default: continue;
    }
    out->append(v.data() + plain, i - plain);
    out->append(esc, 2);
    plain = i + 1;
  }
  out->append(v.data() + plain, v.size() - plain);
}

// A text value in the form given.
void AppendText(std::string_view v, Format f, std::string* out) {
  if (f == Format::kSqlLiteral) out->append(QuoteLiteral(ir::Engine::kMysql, v));
  else AppendEscaped(v, out);
}

// The binary form of a MySQL value of type `sn` written to a PostgreSQL column of type `dn`,
// where MySQL's text of it is one that form can be made from exactly.
ValuePlan::Binary MysqlToPgBinary(const std::string& sn, const std::string& dn, ValuePlan::Kind kind) {
  using B = ValuePlan::Binary;
  if (kind == ValuePlan::Kind::kIntToBool) return B::kBool;
  if (kind == ValuePlan::Kind::kBytesToBytea) return B::kBytea;
  if (kind != ValuePlan::Kind::kAsIs) return B::kNone;
  auto one_of = [](const std::string& x, std::initializer_list<const char*> names) {
    for (const char* n : names) {
      if (x == n) return true;
    }
    return false;
  };
  bool integer = one_of(sn, {"tinyint", "smallint", "mediumint", "int", "integer", "bigint", "year"});
  if (integer && one_of(dn, {"smallint", "int2"})) return B::kInt2;
  if (integer && one_of(dn, {"integer", "int", "int4"})) return B::kInt4;
  if (integer && one_of(dn, {"bigint", "int8"})) return B::kInt8;
  if ((integer || one_of(sn, {"decimal", "numeric", "dec", "fixed"})) && one_of(dn, {"numeric", "decimal"})) {
    return B::kNumeric;
  }
  bool floating = one_of(sn, {"float", "double", "double precision", "real"});
  if (floating && one_of(dn, {"real", "float4"})) return B::kFloat4;
  if (floating && one_of(dn, {"double precision", "float8"})) return B::kFloat8;
  if (one_of(sn, {"char", "varchar", "tinytext", "text", "mediumtext", "longtext", "enum", "character",
                  "character varying", "national char", "nchar", "nvarchar", "national varchar"}) &&
      one_of(dn, {"text", "character varying", "varchar", "character", "char", "bpchar"})) {
    return B::kText;
  }
  if (sn == "json" && dn == "jsonb") return B::kJsonb;
  if (sn == "json" && dn == "json") return B::kJson;
  if (sn == "date" && dn == "date") return B::kDate;
  if (one_of(sn, {"datetime", "timestamp"}) &&
      one_of(dn, {"timestamp without time zone", "timestamp with time zone", "timestamp", "timestamptz"})) {
    return B::kTimestamp;
  }
  return B::kNone;
}

void AppendBigEndian(uint64_t v, int bytes, std::string* out) {
  for (int i = bytes - 1; i >= 0; --i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

// Days from 1970-01-01 to a proleptic Gregorian date.
int64_t DaysFromCivil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

constexpr int64_t kPgEpochDays = 10957;  // 2000-01-01, PostgreSQL's epoch, from 1970-01-01

// A run of exactly n digits at v[at…] as a number; false when they are not all digits.
bool Digits(std::string_view v, size_t at, size_t n, int64_t* out) {
  if (at + n > v.size()) return false;
  int64_t x = 0;
  for (size_t i = at; i < at + n; ++i) {
    if (v[i] < '0' || v[i] > '9') return false;
    x = x * 10 + (v[i] - '0');
  }
  *out = x;
  return true;
}

int64_t DaysInMonth(int64_t y, int64_t m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : kDays[m - 1];
}

// "YYYY-MM-DD" → days since 2000-01-01. A date the calendar has not (MySQL keeps 2021-02-30
// under ALLOW_INVALID_DATES) is refused, as PostgreSQL refuses it in text.
bool ParseDate(std::string_view v, int64_t* days) {
  int64_t y, m, d;
  if (v.size() < 10 || v[4] != '-' || v[7] != '-' || !Digits(v, 0, 4, &y) || !Digits(v, 5, 2, &m) ||
      !Digits(v, 8, 2, &d) || m < 1 || m > 12 || d < 1 || d > DaysInMonth(y, m)) {
    return false;
  }
  *days = DaysFromCivil(y, m, d) - kPgEpochDays;
  return true;
}

// "YYYY-MM-DD[ HH:MM:SS[.ffffff]]" → microseconds since 2000-01-01 00:00:00.
bool ParseTimestamp(std::string_view v, int64_t* micros) {
  int64_t days;
  if (!ParseDate(v, &days)) return false;
  int64_t h = 0, mi = 0, s = 0, frac = 0;
  if (v.size() > 10) {
    if (v.size() < 19 || v[10] != ' ' || v[13] != ':' || v[16] != ':' || !Digits(v, 11, 2, &h) ||
        !Digits(v, 14, 2, &mi) || !Digits(v, 17, 2, &s) || h > 23 || mi > 59 || s > 59) {
      return false;
    }
    if (v.size() > 19) {
      size_t n = v.size() - 20;
      if (v[19] != '.' || n == 0 || n > 6 || !Digits(v, 20, n, &frac)) return false;
      for (size_t i = n; i < 6; ++i) frac *= 10;
    }
  }
  *micros = ((days * 24 + h) * 60 + mi) * 60'000'000 + s * 1'000'000 + frac;
  return true;
}

// A plain decimal ("-12.50", "7") as PostgreSQL's binary numeric: digit count, weight, sign and
// display scale, then base-10000 digits.
bool AppendNumeric(std::string_view v, std::string* out) {
  bool negative = !v.empty() && v[0] == '-';
  if (negative || (!v.empty() && v[0] == '+')) v.remove_prefix(1);
  size_t dot = v.find('.');
  std::string_view whole = v.substr(0, dot), frac = dot == std::string_view::npos ? "" : v.substr(dot + 1);
  if (whole.empty() && frac.empty()) return false;
  for (char ch : whole) {
    if (ch < '0' || ch > '9') return false;
  }
  for (char ch : frac) {
    if (ch < '0' || ch > '9') return false;
  }
  // Groups of four digits from the decimal point: the whole part padded on the left, the
  // fraction on the right. Per value, so without allocating: MySQL's 65 digits are 18 groups.
  const size_t lead = (4 - whole.size() % 4) % 4;
  const size_t whole_groups = (lead + whole.size()) / 4;
  const size_t count = whole_groups + (frac.size() + 3) / 4;
  std::array<int, 32> groups{};
  if (count > groups.size()) return false;
  auto digit = [&](size_t i) {  // the i-th digit of the padded sequence
    if (i < lead) return 0;
    i -= lead;
    if (i < whole.size()) return whole[i] - '0';
    i -= whole.size();
    return i < frac.size() ? frac[i] - '0' : 0;
  };
  for (size_t g = 0; g < count; ++g) {
    groups[g] = digit(4 * g) * 1000 + digit(4 * g + 1) * 100 + digit(4 * g + 2) * 10 + digit(4 * g + 3);
  }
  int weight = static_cast<int>(whole_groups) - 1;
  size_t first = 0;
  while (first < count && groups[first] == 0) {
    ++first;
    --weight;
  }
  size_t last = count;
  while (last > first && groups[last - 1] == 0) --last;
  if (first == last) {
    weight = 0;
    negative = false;
  }
  AppendBigEndian(last - first, 2, out);
  AppendBigEndian(static_cast<uint16_t>(static_cast<int16_t>(weight)), 2, out);
  AppendBigEndian(negative ? 0x4000 : 0, 2, out);
  AppendBigEndian(frac.size(), 2, out);
  for (size_t i = first; i < last; ++i) AppendBigEndian(static_cast<uint64_t>(groups[i]), 2, out);
  return true;
}

template <typename T>
bool ParseNumber(std::string_view v, T* out) {
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), *out);
  return ec == std::errc() && end == v.data() + v.size();
}

// A float's IEEE bits, most significant byte first.
template <typename T, typename Bits>
bool AppendFloat(std::string_view v, std::string* out) {
  T x;
  if (!ParseNumber(v, &x)) return false;  // also out of range (a double's value beyond real's)
  Bits bits;
  std::memcpy(&bits, &x, sizeof bits);
  AppendBigEndian(bits, static_cast<int>(sizeof bits), out);
  return true;
}

// One value in COPY's binary form, its length first.
Status AppendBinary(const ValuePlan& p, std::string_view v, std::string* out) {
  using B = ValuePlan::Binary;
  const size_t at = out->size();
  out->append(4, '\0');  // the length, set below
  bool ok = true;
  switch (p.binary) {
    case B::kInt2:
    case B::kInt4:
    case B::kInt8: {
      int64_t x;
      const int bytes = p.binary == B::kInt2 ? 2 : p.binary == B::kInt4 ? 4 : 8;
      const int64_t max = bytes == 8 ? INT64_MAX : (int64_t{1} << (8 * bytes - 1)) - 1;
      bool digits = !v.empty() && v.find_first_not_of("-0123456789") == std::string_view::npos;
      if (digits && (!ParseNumber(v, &x) || x > max || x < -max - 1)) {
        return Status(Code::kInvalidArgument,
                      fmt::format("{} is out of range for PostgreSQL {}; override the column's type in the plan "
                                  "(bigint, or numeric)",
                                  v, bytes == 2 ? "smallint" : bytes == 4 ? "integer" : "bigint"));
      }
      ok = digits;
      if (ok) AppendBigEndian(static_cast<uint64_t>(x), bytes, out);
      break;
    }
    case B::kNumeric:
      ok = AppendNumeric(v, out);
      break;
    case B::kFloat4:
      ok = AppendFloat<float, uint32_t>(v, out);
      break;
    case B::kFloat8:
      ok = AppendFloat<double, uint64_t>(v, out);
      break;
    case B::kBool:
      if (v != "0" && v != "1") {
        return Status(Code::kInvalidArgument,
                      fmt::format("the value {} cannot become a boolean; override the column's type (smallint) in the plan",
                                  v));
      }
      out->push_back(v == "1" ? 1 : 0);
      break;
    case B::kJsonb:
      out->push_back(1);  // jsonb's binary format version
      [[fallthrough]];
    case B::kText:
    case B::kJson:
      if (v.find('\0') != std::string_view::npos) {
        return Status(Code::kInvalidArgument,
                      "the value holds a NUL byte, which PostgreSQL text cannot store; map the column to bytea");
      }
      out->append(v);
      break;
    case B::kBytea:
      out->append(v);
      break;
    case B::kDate: {
      int64_t days;
      ok = ParseDate(v, &days) && v.size() == 10;
      if (ok) AppendBigEndian(static_cast<uint64_t>(days), 4, out);
      break;
    }
    case B::kTimestamp: {
      int64_t micros;
      ok = ParseTimestamp(v, &micros);
      if (ok) AppendBigEndian(static_cast<uint64_t>(micros), 8, out);
      break;
    }
    case B::kNone:
      return Status(Code::kInternal, "a column without a binary form was written in COPY's binary format");
  }
  if (!ok) {
    if (p.binary == B::kDate || p.binary == B::kTimestamp) {
      return Status(Code::kInvalidArgument,
                    fmt::format("{} is not a date PostgreSQL can hold (the calendar has no such day or time)", v));
    }
    return Status(Code::kInvalidArgument,
                  fmt::format("{} cannot be written as PostgreSQL's {}: out of its range, or not a number; override "
                              "the column's type in the plan",
                              v, p.binary == B::kFloat4   ? "real"
                                 : p.binary == B::kFloat8 ? "double precision"
                                 : p.binary == B::kNumeric ? "numeric"
                                                           : "integer types"));
  }
  uint64_t length = out->size() - at - 4;
  for (int i = 0; i < 4; ++i) (*out)[at + static_cast<size_t>(i)] = static_cast<char>((length >> (8 * (3 - i))) & 0xff);
  return Status::Ok();
}

}  // namespace

void AppendCopyBinaryHeader(std::string* out) {
  out->append("PGCOPY\n\377\r\n\0", 11);
  out->append(8, '\0');  // flags, header extension length
}

void AppendCopyBinaryRow(size_t fields, std::string* out) { AppendBigEndian(fields, 2, out); }

void AppendCopyBinaryTrailer(std::string* out) { out->append("\xff\xff", 2); }

bool ZeroDate(std::string_view v) {
  if (v.size() < 10) return false;
  return v.substr(0, 4) == "0000" || v.substr(5, 2) == "00" || v.substr(8, 2) == "00";
}

bool IsMysqlSpatial(std::string_view n) {
  for (std::string_view s : {"geometry", "point", "linestring", "polygon", "multipoint", "multilinestring",
                             "multipolygon", "geometrycollection", "geomcollection"}) {
    if (n == s) return true;
  }
  return false;
}

ValuePlan PlanValue(ir::Engine from, ir::Engine to, const ColumnMapping& c, ir::ZeroDates zero_dates) {
  ValuePlan p;
  p.zero_dates = zero_dates;
  p.select = QuoteIdent(from, c.source->name);
  auto src = ParseSqlType(c.ValueType());
  auto dst = ParseSqlType(c.type);
  std::string sn = src ? src->name : "", dn = dst ? dst->name : "";
  bool to_pg = to == ir::Engine::kPostgres, from_pg = from == ir::Engine::kPostgres;
  if (ir::IsMysqlFamily(from)) {
    p.date = sn == "date" || sn == "datetime" || sn == "timestamp";
    bool binary = sn == "binary" || sn == "varbinary" || sn == "tinyblob" || sn == "blob" || sn == "mediumblob" ||
                  sn == "longblob";
    if (sn == "float") {
      // MySQL prints a FLOAT with 6 significant digits (16777217 reads as 16777200); as a
      // DOUBLE it prints the float's exact value, which reads back to the same float.
      p.select = fmt::format("CAST({} AS DOUBLE)", QuoteIdent(from, c.source->name));
    }
    if (to_pg) {
      if (sn == "bit" && (dn == "bit" || dn == "bit varying" || dn == "varbit" || dn == "boolean" || dn == "bool")) {
        std::string n = src->args.empty() ? "1" : src->args[0];
        p.select = fmt::format("LPAD(BIN({}), {}, '0')", QuoteIdent(from, c.source->name), n);
        p.kind = dn == "boolean" || dn == "bool" ? ValuePlan::Kind::kIntToBool : ValuePlan::Kind::kBitsToPgBits;
      } else if (sn == "bit") {
        // A bit value overridden to a number: the number.
        p.select = fmt::format("CAST({} AS UNSIGNED)", QuoteIdent(from, c.source->name));
      } else if (dn == "boolean" || dn == "bool") {
        p.kind = ValuePlan::Kind::kIntToBool;
      } else if (c.is_set || (sn == "set" && c.type.find("[]") != std::string::npos)) {
        p.kind = ValuePlan::Kind::kSetToArray;
      } else if ((binary || IsMysqlSpatial(sn)) && dn == "bytea") {
        p.kind = ValuePlan::Kind::kBytesToBytea;
      }
      p.binary = MysqlToPgBinary(sn, dn, p.kind);
    } else if (binary || sn == "bit") {
      p.kind = ValuePlan::Kind::kBytesToMysql;
      p.load_set = "UNHEX({})";
    }
  } else if (from_pg && !to_pg) {
    if (sn == "boolean") p.kind = ValuePlan::Kind::kPgBoolToInt;
    else if (sn == "bytea") {
      p.kind = ValuePlan::Kind::kByteaToBytes;
      p.load_set = "UNHEX({})";
    } else if (sn == "bit" || sn == "bit varying") {
      p.kind = ValuePlan::Kind::kPgBitsToMysql;
      p.load_set = "CAST(CONV({}, 2, 10) AS UNSIGNED)";
    }
    else if (sn == "timestamp with time zone") p.kind = ValuePlan::Kind::kPgZonedToMysql;
    else if (sn == "time with time zone") {
      // timetz prints its own offset, not the session's: converted to UTC first.
      p.select = fmt::format("({} AT TIME ZONE 'UTC')", QuoteIdent(from, c.source->name));
      p.kind = ValuePlan::Kind::kPgZonedToMysql;
    }
    else if (sn == "real") p.kind = ValuePlan::Kind::kPgRealToMysql;
  }
  return p;
}

Status AppendValue(const ValuePlan& p, std::optional<std::string_view> value, Format f, std::string* out) {
  const bool binary = f == Format::kCopyBinary;
  const bool pg = f == Format::kCopyText || binary, literal = f == Format::kSqlLiteral;
  auto null = [&] {
    if (binary) AppendBigEndian(0xffffffff, 4, out);  // length -1
    else out->append(literal ? "NULL" : "\\N");
  };
  if (!value) {
    null();
    return Status::Ok();
  }
  std::string_view v = *value;
  if (p.date && ZeroDate(v)) {
    bool keep = !pg && (p.zero_dates == ir::ZeroDates::kKeep || p.zero_dates == ir::ZeroDates::kUnset);
    if (p.zero_dates == ir::ZeroDates::kNull) {
      null();
      return Status::Ok();
    }
    if (!keep) {
      return Status(Code::kInvalidArgument,
                    fmt::format("the zero date {} has no equivalent in the destination (zero_dates = error); set "
                                "zero_dates = null in the type map to write NULL",
                                v));
    }
  }
  if (binary) return AppendBinary(p, v, out);
  using K = ValuePlan::Kind;
  switch (p.kind) {
    case K::kIntToBool:
      if (v == "0" || v == "1") {
        out->push_back(v == "1" ? 't' : 'f');
        return Status::Ok();
      }
      return Status(Code::kInvalidArgument,
                    fmt::format("the value {} cannot become a boolean; override the column's type (smallint) in the plan",
                                v));
    case K::kPgBoolToInt:
      out->append(v == "t" ? "1" : "0");
      return Status::Ok();
    case K::kBitsToPgBits:
      out->append(v);
      return Status::Ok();
    case K::kPgBitsToMysql:  // LOAD DATA: the bits, through load_set
      if (literal) out->append("b'").append(v).append("'");
      else out->append(v);
      return Status::Ok();
    case K::kSetToArray: {
      std::string arr = "{";
      size_t start = 0;
      while (!v.empty() && start <= v.size()) {
        size_t comma = v.find(',', start);
        std::string_view item = v.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
        if (arr.size() > 1) arr += ',';
        arr += '"';
        for (char ch : item) {
          if (ch == '"' || ch == '\\') arr += '\\';
          arr += ch;
        }
        arr += '"';
        if (comma == std::string_view::npos) break;
        start = comma + 1;
      }
      arr += '}';
      AppendEscaped(arr, out);
      return Status::Ok();
    }
    case K::kBytesToBytea:
      out->append("\\\\x");
      out->append(HexDigits(v));
      return Status::Ok();
    case K::kByteaToBytes:  // LOAD DATA: the hex digits, through load_set
      if (v.size() < 2 || v.substr(0, 2) != "\\x") {
        return Status(Code::kInternal, "bytea arrived in escape format; set bytea_output = hex");
      }
      if (!literal) out->append(v.substr(2));
      else if (v.size() == 2) out->append("''");
      else out->append("0x").append(v.substr(2));
      return Status::Ok();
    case K::kBytesToMysql:  // LOAD DATA: the hex digits, through load_set
      if (!literal) out->append(HexDigits(v));
      else if (v.empty()) out->append("''");
      else out->append("0x").append(HexDigits(v));
      return Status::Ok();
    case K::kPgZonedToMysql: {
      std::string_view t = v;
      for (std::string_view zone : {"+00:00", "+00"}) {
        if (t.size() > zone.size() && t.substr(t.size() - zone.size()) == zone) {
          t = t.substr(0, t.size() - zone.size());
          break;
        }
      }
      AppendText(t, f, out);
      return Status::Ok();
    }
    case K::kPgRealToMysql: {
      std::string text(v);
      if (text == "NaN" || text == "Infinity" || text == "-Infinity") {
        return Status(Code::kInvalidArgument, fmt::format("MySQL has no float value {}", text));
      }
      // The float's exact value as a double: MySQL parses a double and range-checks it against
      // FLT_MAX, which the float's shortest form (3.4028235e38) would exceed.
      out->append(fmt::format("{}", static_cast<double>(std::strtof(text.c_str(), nullptr))));
      return Status::Ok();
    }
    case K::kAsIs:
      break;
  }
  if (pg && v.find('\0') != std::string_view::npos) {
    return Status(Code::kInvalidArgument,
                  "the value holds a NUL byte, which PostgreSQL text cannot store; map the column to bytea");
  }
  AppendText(v, f, out);
  return Status::Ok();
}

bool PgBinaryCopySafe(const ColumnMapping& column) {
  if (column.source == nullptr || column.type != column.source->type) return false;
  // The type's name without its modifiers ("(12,2)") and array brackets.
  auto type = ParseSqlType(column.type);
  if (!type) return false;
  std::string base = type->name;
  while (base.size() > 2 && base.compare(base.size() - 2, 2, "[]") == 0) base.resize(base.size() - 2);
  if (base == "interval" || base.rfind("interval ", 0) == 0) return true;  // "interval day to second"
  static const std::set<std::string, std::less<>> kBuiltIn = {
      "smallint", "integer", "bigint", "numeric", "real", "double precision", "boolean", "text",
      "character varying", "character", "bytea", "date", "time without time zone", "time with time zone",
      "timestamp without time zone", "timestamp with time zone", "uuid", "json", "jsonb", "inet", "cidr",
      "macaddr", "macaddr8", "bit", "bit varying", "oid", "money"};
  return kBuiltIn.count(base) > 0;
}

StatusOr<int64_t> BinaryCopyRows::Feed(std::string_view b) {
  static constexpr std::string_view kSignature("PGCOPY\n\377\r\n\0", 11);
  int64_t rows = 0;
  size_t i = 0;
  // Gathers the next n bytes of a fixed-size part into number_: true once they are all there.
  auto gather = [&](size_t n) {
    size_t take = std::min(n - number_.size(), b.size() - i);
    number_.append(b.data() + i, take);
    i += take;
    return number_.size() == n;
  };
  auto big_endian = [&](size_t from, size_t n) {
    uint32_t v = 0;
    for (size_t k = from; k < from + n; ++k) v = (v << 8) | static_cast<unsigned char>(number_[k]);
    return v;
  };
  auto skip = [&] {
    int64_t take = std::min<int64_t>(skip_, static_cast<int64_t>(b.size() - i));
    i += static_cast<size_t>(take);
    skip_ -= take;
    return skip_ == 0;
  };
  auto field_done = [&] {
    if (--fields_left_ > 0) {
      state_ = State::kFieldLength;
    } else {
      ++rows;
      state_ = State::kFieldCount;
    }
  };
  auto bad = [](const char* what) {
    return Status(Code::kInternal, fmt::format("the source's binary COPY output is not as documented: {}", what));
  };
  while (i < b.size()) {
    switch (state_) {
      case State::kSignature:  // signature, flags, header extension length
        if (!gather(19)) return rows;
        if (std::string_view(number_).substr(0, 11) != kSignature) return bad("no PGCOPY signature");
        skip_ = big_endian(15, 4);
        number_.clear();
        state_ = State::kHeaderExtension;
        break;
      case State::kHeaderExtension:
        if (skip()) state_ = State::kFieldCount;
        break;
      case State::kFieldCount: {
        if (!gather(2)) return rows;
        auto count = static_cast<int16_t>(big_endian(0, 2));
        number_.clear();
        if (count == -1) {
          state_ = State::kEnd;
        } else if (count < 0) {
          return bad("a negative field count");
        } else if (count == 0) {
          ++rows;
        } else {
          fields_left_ = count;
          state_ = State::kFieldLength;
        }
        break;
      }
      case State::kFieldLength: {
        if (!gather(4)) return rows;
        auto length = static_cast<int32_t>(big_endian(0, 4));
        number_.clear();
        if (length < -1) return bad("a negative field length");
        if (length <= 0) {
          field_done();  // NULL or empty
        } else {
          skip_ = length;
          state_ = State::kFieldData;
        }
        break;
      }
      case State::kFieldData:
        if (skip()) field_done();
        break;
      case State::kEnd:
        return bad("bytes after its end");
    }
  }
  return rows;
}

}  // namespace ferry::runtime
