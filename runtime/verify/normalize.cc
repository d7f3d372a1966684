#include "runtime/verify/normalize.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <optional>

#include "compiler/type_pattern.h"
#include "runtime/load/values.h"
#include "runtime/sql.h"

namespace ferry::runtime {

namespace {

// What a column holds, as far as comparing it goes.
enum class Kind { kText, kChar, kInteger, kBool, kDecimal, kFloat, kBits, kSet, kBinary, kDate, kDatetime, kTime,
                  kJson, kOther };

struct Type {
  Kind kind = Kind::kOther;
  SqlType sql;
  bool zoned = false;   // PostgreSQL timestamptz, timetz
  bool money = false;   // PostgreSQL money
  bool array = false;   // PostgreSQL text[]
  int scale = -1;       // decimals; -1: unconstrained
  int precision = 0;    // fractional digits of a datetime or time
};

bool Is(const std::string& n, std::initializer_list<const char*> names) {
  for (const char* x : names) {
    if (n == x) return true;
  }
  return false;
}

int Arg(const SqlType& t, size_t i, int otherwise) {
  if (i >= t.args.size()) return otherwise;
  int v = otherwise;
  std::from_chars(t.args[i].data(), t.args[i].data() + t.args[i].size(), v);
  return v;
}

Type Classify(ir::Engine e, const std::string& text, bool json_alias) {
  Type t;
  auto parsed = ParseSqlType(json_alias ? "json" : text);
  if (!parsed) return t;
  t.sql = *parsed;
  const std::string& n = t.sql.name;
  t.array = text.find("[]") != std::string::npos;
  if (t.array) return t;
  if (ir::IsMysqlFamily(e)) {
    if (Is(n, {"tinyint", "smallint", "mediumint", "int", "integer", "bigint", "year"})) t.kind = Kind::kInteger;
    else if (Is(n, {"decimal", "numeric", "dec", "fixed"})) t.kind = Kind::kDecimal, t.scale = Arg(t.sql, 1, 0);
    else if (Is(n, {"float", "double", "real", "double precision"})) t.kind = Kind::kFloat;
    else if (n == "bit") t.kind = Kind::kBits;
    else if (n == "date") t.kind = Kind::kDate;
    else if (Is(n, {"datetime", "timestamp"})) t.kind = Kind::kDatetime, t.precision = Arg(t.sql, 0, 0);
    else if (n == "time") t.kind = Kind::kTime, t.precision = Arg(t.sql, 0, 0);
    else if (Is(n, {"char", "nchar"})) t.kind = Kind::kChar;
    else if (Is(n, {"varchar", "nvarchar", "tinytext", "text", "mediumtext", "longtext", "enum"})) t.kind = Kind::kText;
    else if (n == "set") t.kind = Kind::kSet;
    else if (Is(n, {"binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob"})) t.kind = Kind::kBinary;
    else if (n == "json") t.kind = Kind::kJson;
    else if (IsMysqlSpatial(n)) t.kind = Kind::kBinary;
    return t;
  }
  if (Is(n, {"smallint", "integer", "int", "bigint", "int2", "int4", "int8", "smallserial", "serial", "bigserial"})) {
    t.kind = Kind::kInteger;
  } else if (Is(n, {"numeric", "decimal"})) {
    t.kind = Kind::kDecimal;
    t.scale = t.sql.args.empty() ? -1 : Arg(t.sql, 1, 0);
  } else if (n == "money") {
    t.kind = Kind::kDecimal, t.money = true, t.scale = 2;
  } else if (Is(n, {"real", "double precision", "float4", "float8", "float"})) {
    t.kind = Kind::kFloat;
  } else if (Is(n, {"boolean", "bool"})) {
    t.kind = Kind::kBool;
  } else if (Is(n, {"bit", "bit varying", "varbit"})) {
    t.kind = Kind::kBits;
  } else if (n == "date") {
    t.kind = Kind::kDate;
  } else if (n.rfind("timestamp", 0) == 0) {
    t.kind = Kind::kDatetime, t.precision = Arg(t.sql, 0, 6);
    t.zoned = n == "timestamptz" || n.find("with time zone") != std::string::npos;
  } else if (n.rfind("time", 0) == 0) {
    t.kind = Kind::kTime, t.precision = Arg(t.sql, 0, 6);
    t.zoned = n == "timetz" || n.find("with time zone") != std::string::npos;
  } else if (Is(n, {"character", "char", "bpchar"})) {
    t.kind = Kind::kChar;
  } else if (Is(n, {"character varying", "varchar", "text", "citext"})) {
    t.kind = Kind::kText;
  } else if (n == "bytea") {
    t.kind = Kind::kBinary;
  } else if (Is(n, {"json", "jsonb"})) {
    t.kind = Kind::kJson;
  }
  return t;
}

// ---- floats ----------------------------------------------------------------------------------

// The scientific canonical form of a float's text (`a`, evaluated several times): sign,
// significant digits without leading or trailing zeros, 'e', the exponent of 0.digits.
std::string SciText(ir::Engine e, const std::string& a) {
  if (ir::IsMysqlFamily(e)) {
    std::string u = fmt::format("IF(LEFT({0}, 1) = '-', SUBSTRING({0}, 2), {0})", a);
    std::string m = fmt::format("SUBSTRING_INDEX({}, 'e', 1)", u);
    std::string x = fmt::format("IF(LOCATE('e', {0}) > 0, CAST(SUBSTRING_INDEX({0}, 'e', -1) AS SIGNED), 0)", u);
    std::string ip = fmt::format("SUBSTRING_INDEX({}, '.', 1)", m);
    std::string fp = fmt::format("IF(LOCATE('.', {0}) > 0, SUBSTRING_INDEX({0}, '.', -1), '')", m);
    std::string d = fmt::format("CONCAT({}, {})", ip, fp);
    std::string d1 = fmt::format("TRIM(LEADING '0' FROM {})", d);
    std::string exp = fmt::format("(CHAR_LENGTH({}) + {} - (CHAR_LENGTH({}) - CHAR_LENGTH({})))", ip, x, d, d1);
    std::string d2 = fmt::format("TRIM(TRAILING '0' FROM {})", d1);
    return fmt::format("IF({0} = '', '0', CONCAT(IF(LEFT({1}, 1) = '-', '-', ''), {0}, 'e', {2}))", d2, a, exp);
  }
  std::string u = fmt::format("(CASE WHEN left({0}, 1) = '-' THEN substr({0}, 2) ELSE {0} END)", a);
  std::string m = fmt::format("split_part({}, 'e', 1)", u);
  std::string x = fmt::format("(CASE WHEN strpos({0}, 'e') > 0 THEN split_part({0}, 'e', 2)::int ELSE 0 END)", u);
  std::string ip = fmt::format("split_part({}, '.', 1)", m);
  std::string fp = fmt::format("split_part({}, '.', 2)", m);
  std::string d = fmt::format("({} || {})", ip, fp);
  std::string d1 = fmt::format("ltrim({}, '0')", d);
  std::string exp = fmt::format("(length({}) + {} - (length({}) - length({})))", ip, x, d, d1);
  std::string d2 = fmt::format("rtrim({}, '0')", d1);
  return fmt::format("(CASE WHEN {0} = '' THEN '0' ELSE (CASE WHEN left({1}, 1) = '-' THEN '-' ELSE '' END) || {0} || "
                     "'e' || {2}::text END)",
                     d2, a, exp);
}

// A double (`x`, an SQL expression of type double) as canonical text. Zero (and -0) is "0";
// values whose shortest digits fit DECIMAL(65,30) go through the exact decimal both engines
// give (cheap); others through their text (SciText). Both sides take the same branch for the
// same value, so equal values give equal text.
std::string FloatText(ir::Engine e, const std::string& x) {
  if (ir::IsMysqlFamily(e)) {
    return fmt::format(
        "CASE WHEN {0} IS NULL THEN NULL WHEN {0} = 0 THEN '0' WHEN ABS({0}) >= 1e-13 AND ABS({0}) < 1e34 THEN "
        "TRIM(TRAILING '.' FROM TRIM(TRAILING '0' FROM CAST({0} AS DECIMAL(65,30)))) ELSE {1} END",
        x, SciText(e, fmt::format("CAST({} AS CHAR)", x)));
  }
  return fmt::format(
      "CASE WHEN {0} IS NULL THEN NULL WHEN {0} = 0 THEN '0' WHEN abs({0}) >= 1e-13::float8 AND abs({0}) < "
      "1e34::float8 THEN trim_scale({0}::text::numeric)::text ELSE {1} END",
      x, SciText(e, fmt::format("{}::text", x)));
}

// A decimal d × 10^q.
struct DecimalValue {
  uint64_t d = 0;
  int q = 0;
};

DecimalValue Stripped(DecimalValue v) {
  while (v.d != 0 && v.d % 10 == 0) v.d /= 10, ++v.q;
  return v;
}

// to_chars' scientific text ("d.ddde-05") as a decimal, with all its digits.
DecimalValue FromScientific(std::string_view sci) {
  DecimalValue v;
  size_t e = sci.find('e');
  int digits = 0;
  for (char ch : sci.substr(0, e)) {
    if (ch >= '0' && ch <= '9') v.d = v.d * 10 + static_cast<uint64_t>(ch - '0'), ++digits;
  }
  std::string_view x = sci.substr(e + 1);
  if (!x.empty() && x[0] == '+') x.remove_prefix(1);
  std::from_chars(x.data(), x.data() + x.size(), v.q);
  v.q -= digits - 1;
  return v;
}

// Whether d × 10^q is exactly m × 2^f, m odd.
bool IsBinary(DecimalValue v, uint64_t m, int f) {
  if (v.d == 0) return false;
  uint64_t odd = v.d;
  int twos = 0;
  while ((odd & 1) == 0) odd >>= 1, ++twos;
  // d × 10^q = odd × 5^q × 2^(twos + q): equal when odd × 5^q is m (q >= 0), or odd is
  // m × 5^-q (q < 0), and the powers of two are the same.
  if (twos + v.q != f) return false;
  // Both below 2^57 (m has 55 bits at most, d 17 digits): small × 5 cannot overflow.
  uint64_t small = v.q >= 0 ? odd : m, large = v.q >= 0 ? m : odd;
  for (int i = 0; i < std::abs(v.q); ++i) {
    small *= 5;
    if (small > large) return false;
  }
  return small == large;
}

// Whether v reads back as x (positive, finite) and is not exactly halfway between x and a
// neighbour: strictly inside the interval of decimals that round to x.
bool StrictlyRoundsTo(DecimalValue v, double x) {
  char text[48];
  auto end = std::to_chars(text, text + 24, v.d).ptr;
  *end++ = 'e';
  end = std::to_chars(end, text + sizeof text, v.q).ptr;
  double back = 0;
  std::from_chars(text, end, back);
  if (back != x) return false;
  uint64_t bits = 0;
  std::memcpy(&bits, &x, sizeof bits);
  const uint64_t frac = bits & ((uint64_t{1} << 52) - 1);
  const int biased = static_cast<int>(bits >> 52);
  const uint64_t m = biased == 0 ? frac : frac | uint64_t{1} << 52;  // x = m × 2^e
  const int e = biased == 0 ? -1074 : biased - 1075;
  if (IsBinary(v, 2 * m + 1, e - 1)) return false;  // halfway up
  // Halfway down: nearer below a power of two, whose neighbour below is half as far.
  return frac == 0 && biased > 1 ? !IsBinary(v, 4 * m - 1, e - 2) : !IsBinary(v, 2 * m - 1, e - 1);
}

// The digits PostgreSQL prints for a positive finite double. Its Ryu (built without
// STRICTLY_SHORTEST) takes the shortest decimal strictly inside the interval that rounds to
// the double, the nearest of that length; std::to_chars also takes one exactly halfway to a
// neighbour, which reads back as the double by ties-to-even. They differ there only: to_chars
// gives 6.259822403058642e16 for the double PostgreSQL prints as 6.2598224030586416e+16.
DecimalValue PgShortest(double x) {
  char buf[40];
  auto r = std::to_chars(buf, buf + sizeof buf, x, std::chars_format::scientific);
  DecimalValue v = Stripped(FromScientific(std::string_view(buf, static_cast<size_t>(r.ptr - buf))));
  if (StrictlyRoundsTo(v, x)) return v;
  int length = 1;
  for (uint64_t d = v.d; d >= 10; d /= 10) ++length;
  for (int p = length; p <= 17; ++p) {
    // The nearest decimal of p digits; where it lies on the lower edge, the one a unit above
    // (inside when the interval is wider above x, as below a power of two). A nearest on the
    // upper edge leaves no decimal of p digits inside.
    r = std::to_chars(buf, buf + sizeof buf, x, std::chars_format::scientific, p - 1);
    DecimalValue nearest = FromScientific(std::string_view(buf, static_cast<size_t>(r.ptr - buf)));
    if (StrictlyRoundsTo(Stripped(nearest), x)) return Stripped(nearest);
    DecimalValue above = Stripped(DecimalValue{nearest.d + 1, nearest.q});
    if (StrictlyRoundsTo(above, x)) return above;
  }
  return v;  // 17 digits always read back as the double: not reached
}

// A double as PostgreSQL 12 and later print it with extra_float_digits > 0, as every Ferry
// session sets (float8out: PgShortest's digits, plain from 1e-4 to below 1e15, else
// "d.ddde+XX"), but zero, and -0, as "0". MySQL's double finished by Ferry beside
// PostgreSQL's own text of it (PgFloat), which costs PostgreSQL a fraction of FloatText.
std::string PgFloat8Text(double x) {
  if (x == 0) return "0";
  if (!std::isfinite(x)) return std::isnan(x) ? "NaN" : x > 0 ? "Infinity" : "-Infinity";
  DecimalValue v = PgShortest(std::fabs(x));
  std::string digits = std::to_string(v.d);
  const int n = static_cast<int>(digits.size());
  const int exp10 = v.q + n - 1;  // of the first digit
  std::string out = x < 0 ? "-" : "";
  if (exp10 < -4 || exp10 >= 15) {
    out += digits[0];
    if (n > 1) out += "." + digits.substr(1);
    out += exp10 < 0 ? "e-" : "e+";
    int a = std::abs(exp10);
    if (a < 10) out += '0';
    return out + std::to_string(a);
  }
  const int point = exp10 + 1;  // digits before the decimal point
  if (point <= 0) return out + "0." + std::string(static_cast<size_t>(-point), '0') + digits;
  if (point >= n) return out + digits + std::string(static_cast<size_t>(point - n), '0');
  return out + digits.substr(0, static_cast<size_t>(point)) + "." + digits.substr(static_cast<size_t>(point));
}

// A double's integer part after scaling by 2^20 (exact in both engines: a power of two), or
// its integer part beyond 2^43, NULL beyond 9e18: equal doubles give equal text in both.
std::string CoarseDouble(ir::Engine e, const std::string& x) {
  if (ir::IsMysqlFamily(e)) {
    return fmt::format("CASE WHEN ABS({0}) < 8796093022208e0 THEN CAST(FLOOR({0} * 1048576e0) AS SIGNED) "
                       "WHEN ABS({0}) < 9e18 THEN CAST(FLOOR({0}) AS SIGNED) END",
                       x);
  }
  return fmt::format("CASE WHEN abs({0}) < 8796093022208::float8 THEN floor({0} * 1048576::float8)::bigint::text "
                     "WHEN abs({0}) < 9e18::float8 THEN floor({0})::bigint::text END",
                     x);
}

// PostgreSQL's side of PgFloat8Text (`x` of type double).
std::string PgFloat(const std::string& x) { return fmt::format("CASE WHEN {0} = 0 THEN '0' ELSE {0}::text END", x); }

// ---- one side --------------------------------------------------------------------------------

struct Side {
  ir::Engine engine;
  std::string col;  // quoted
  Type type;
  const Column* column = nullptr;  // the source column, on the source side
};

bool NeedsUtf8(const Side& s) {
  if (s.column == nullptr) return false;
  const std::string& cs = s.column->charset;
  return !cs.empty() && cs.rfind("utf8", 0) != 0 && cs != "ascii" && cs != "binary";
}

// The column as text, as the engine prints it.
std::string Plain(const Side& s) {
  if (!ir::IsMysqlFamily(s.engine)) return s.col + "::text";
  if (NeedsUtf8(s)) return fmt::format("CONVERT({} USING utf8mb4)", s.col);
  return s.col;
}

std::string Hex(const Side& s) {
  return ir::IsMysqlFamily(s.engine) ? fmt::format("LOWER(HEX({}))", s.col) : fmt::format("encode({}, 'hex')", s.col);
}

std::string Double(const Side& s) {
  return ir::IsMysqlFamily(s.engine) ? fmt::format("CAST({} AS DOUBLE)", s.col) : s.col + "::float8";
}

// Read as it is: same engine, same type.
std::string AsIs(const Side& s) {
  bool my = ir::IsMysqlFamily(s.engine);
  switch (s.type.kind) {
    case Kind::kFloat:
      // MySQL prints a FLOAT with 6 digits: as a double it prints all of them. -0 is 0.
      return my ? fmt::format("CASE WHEN {0} = 0 THEN '0' ELSE CAST(CAST({0} AS DOUBLE) AS CHAR) END", s.col)
                : fmt::format("CASE WHEN {0} = 0 THEN '0' ELSE {0}::text END", s.col);
    case Kind::kBinary: return Hex(s);
    case Kind::kBits: return my ? fmt::format("BIN({})", s.col) : Plain(s);
    default: return Plain(s);
  }
}

std::string Decimal(const Side& s, bool trim) {
  bool my = ir::IsMysqlFamily(s.engine);
  std::string v = s.type.money ? s.col + "::numeric" : s.col;
  if (!trim) return my ? v : v + "::text";
  if (my) return fmt::format("IF(LOCATE('.', {0}) > 0, TRIM(TRAILING '.' FROM TRIM(TRAILING '0' FROM {0})), {0})", v);
  return fmt::format("trim_scale({})::text", v);
}

// A timestamp as PostgreSQL prints it (DateStyle ISO, in UTC: every session is): the fraction
// without its trailing zeros, and none when it is zero. Equal values print alike whatever the
// two precisions, and MySQL's fixed-width fraction is trimmed to match. (to_char's fixed width
// costs PostgreSQL three times what its own text does.)
std::string Datetime(const Side& s) {
  if (ir::IsMysqlFamily(s.engine)) {
    if (s.type.precision == 0) return s.col;  // no fraction, and trimming zeros would eat the seconds
    return fmt::format("TRIM(TRAILING '.' FROM TRIM(TRAILING '0' FROM {}))", s.col);
  }
  return s.type.zoned ? fmt::format("({} AT TIME ZONE 'UTC')::text", s.col) : s.col + "::text";
}

std::string Time(const Side& s) {
  if (ir::IsMysqlFamily(s.engine)) return fmt::format("TIME_FORMAT({}, '%H:%i:%s.%f')", s.col);
  std::string t = s.type.zoned ? fmt::format("({} AT TIME ZONE 'UTC')::time", s.col) : s.col;
  return fmt::format("to_char({}::interval, 'HH24:MI:SS.US')", t);
}

// MySQL zero dates become NULL when the type map says so (as the load wrote them).
std::string ZeroDatesAsNull(const Side& s, const std::string& expr) {
  return fmt::format("CASE WHEN YEAR({0}) = 0 OR MONTH({0}) = 0 OR DAYOFMONTH({0}) = 0 THEN NULL ELSE {1} END", s.col,
                     expr);
}

bool SameType(const Type& a, const Type& b) {
  return a.kind == b.kind && a.sql.name == b.sql.name && a.sql.args == b.sql.args &&
         a.sql.is_unsigned == b.sql.is_unsigned && a.array == b.array;
}

}  // namespace

CompareColumn PlanCompare(ir::Engine from, ir::Engine to, const ColumnMapping& c, ir::ZeroDates zero_dates) {
  CompareColumn out;
  out.name = c.source->name;
  Side src{from, QuoteIdent(from, c.source->name), Classify(from, c.ValueType(), false), c.source};
  Side dst{to, QuoteIdent(to, c.name), Classify(to, c.type, false), nullptr};
  const Kind a = src.type.kind, b = dst.type.kind;
  auto any = [&](Kind k) { return a == k || b == k; };
  auto both = [&](std::initializer_list<Kind> ks) {
    bool x = false, y = false;
    for (Kind k : ks) x |= a == k, y |= b == k;
    return x && y;
  };
  const bool same_engine = ir::IsMysqlFamily(from) == ir::IsMysqlFamily(to);
  auto fixed = [](Kind k) {
    return k == Kind::kInteger || k == Kind::kBool || k == Kind::kDecimal || k == Kind::kFloat || k == Kind::kBits ||
           k == Kind::kBinary || k == Kind::kDate || k == Kind::kDatetime || k == Kind::kTime;
  };
  out.fixed = fixed(a) && fixed(b);
  if (same_engine && SameType(src.type, dst.type)) {
    out.src = AsIs(src);
    out.dst = AsIs(dst);
  } else if (any(Kind::kBool) && both({Kind::kBool, Kind::kInteger, Kind::kBits})) {
    for (Side* s : {&src, &dst}) {
      std::string& e = s == &src ? out.src : out.dst;
      bool my = ir::IsMysqlFamily(s->engine);
      if (s->type.kind == Kind::kBool) e = s->col + "::int::text";
      else if (s->type.kind == Kind::kBits) e = my ? fmt::format("CAST({} AS UNSIGNED)", s->col) : fmt::format("{}::int::text", s->col);
      else e = Plain(*s);
      if (!same_engine && !my) {
        out.hash_as = HashAs::kInteger;
        (s == &src ? out.src_number : out.dst_number) = s->type.kind == Kind::kInteger ? s->col : s->col + "::int";
      }
    }
  } else if (any(Kind::kFloat) && both({Kind::kFloat, Kind::kDecimal, Kind::kInteger})) {
    // Between engines, what each side reads is PostgreSQL's text of the double (MySQL's
    // finished by Ferry); in SQL on both sides (a key), FloatText.
    for (Side* s : {&src, &dst}) {
      bool my = ir::IsMysqlFamily(s->engine);
      (s == &src ? out.src_finish : out.dst_finish) = !same_engine && my ? Finish::kFloat : Finish::kNone;
      (s == &src ? out.src : out.dst) =
          same_engine ? FloatText(s->engine, Double(*s)) : my ? Double(*s) : PgFloat(Double(*s));
      if (!same_engine) (s == &src ? out.src_sql : out.dst_sql) = FloatText(s->engine, Double(*s));
      if (!same_engine) (s == &src ? out.src_group : out.dst_group) = CoarseDouble(s->engine, Double(*s));
      if (!same_engine && !my) {
        out.hash_as = HashAs::kDouble;
        (s == &src ? out.src_number : out.dst_number) = Double(*s);
      }
    }
  } else if (both({Kind::kDecimal, Kind::kInteger})) {
    int sa = a == Kind::kInteger ? 0 : src.type.scale, sb = b == Kind::kInteger ? 0 : dst.type.scale;
    bool trim = sa != sb || sa < 0;
    out.src = a == Kind::kInteger && ir::IsMysqlFamily(from) && src.type.sql.name == "year"
                  ? fmt::format("CAST({} AS UNSIGNED)", src.col)
                  : Decimal(src, trim);
    out.dst = Decimal(dst, trim);
    if (!same_engine && a == Kind::kInteger && b == Kind::kInteger) {
      out.hash_as = HashAs::kInteger;
      (ir::IsMysqlFamily(from) ? out.dst_number : out.src_number) = ir::IsMysqlFamily(from) ? dst.col : src.col;
    }
  } else if (a == Kind::kBits && b == Kind::kBits) {
    for (Side* s : {&src, &dst}) {
      (s == &src ? out.src : out.dst) =
          ir::IsMysqlFamily(s->engine)
              ? fmt::format("BIN({})", s->col)
              : fmt::format("CASE WHEN {0} IS NULL THEN NULL ELSE COALESCE(NULLIF(ltrim({0}::text, '0'), ''), '0') END",
                            s->col);
    }
  } else if (any(Kind::kBinary)) {
    out.src = a == Kind::kBinary ? Hex(src) : Plain(src);
    out.dst = b == Kind::kBinary ? Hex(dst) : Plain(dst);
  } else if (both({Kind::kDatetime}) || (both({Kind::kDate}) && !same_engine)) {
    for (Side* s : {&src, &dst}) {
      bool finish = !same_engine && ir::IsMysqlFamily(s->engine);
      (s == &src ? out.src_finish : out.dst_finish) = finish ? Finish::kDateTime : Finish::kNone;
      std::string sql = s->type.kind == Kind::kDate ? Plain(*s) : Datetime(*s);
      (s == &src ? out.src : out.dst) = finish ? Plain(*s) : sql;
      if (finish) (s == &src ? out.src_sql : out.dst_sql) = sql;
    }
  } else if (both({Kind::kTime})) {
    out.src = Time(src);
    out.dst = Time(dst);
  } else if (any(Kind::kJson) && !same_engine) {
    // PostgreSQL prints jsonb canonically; the MySQL side is made the same by Ferry.
    for (Side* s : {&src, &dst}) {
      bool my = ir::IsMysqlFamily(s->engine);
      (s == &src ? out.src_finish : out.dst_finish) = my ? Finish::kJsonb : Finish::kNone;
      (s == &src ? out.src : out.dst) = my ? Plain(*s) : s->col + "::jsonb::text";
    }
  } else if (any(Kind::kChar)) {
    // CHAR pads with spaces (PostgreSQL prints the pad, MySQL strips it): trailing spaces
    // are not part of the value.
    out.src = ir::IsMysqlFamily(from) ? fmt::format("RTRIM({})", Plain(src)) : fmt::format("rtrim({})", Plain(src));
    out.dst = ir::IsMysqlFamily(to) ? fmt::format("RTRIM({})", Plain(dst)) : fmt::format("rtrim({})", Plain(dst));
  } else if (a == Kind::kSet && dst.type.array) {
    out.src = Plain(src);
    out.dst = fmt::format("array_to_string({}, ',')", dst.col);
  } else {
    out.src = Plain(src);
    out.dst = Plain(dst);
  }
  if (ir::IsMysqlFamily(from) && (a == Kind::kDate || a == Kind::kDatetime) && zero_dates == ir::ZeroDates::kNull) {
    if (out.src_finish == Finish::kDateTime) {
      out.src_finish = Finish::kDateTimeZeroNull;
      out.src_sql = ZeroDatesAsNull(src, out.src_sql);
    } else {
      out.src = ZeroDatesAsNull(src, out.src);
    }
  }
  return out;
}

std::string RowPart(ir::Engine e, const CompareColumn& c, bool source, bool utf8) {
  const std::string& x = source ? c.src : c.dst;
  if (ir::IsMysqlFamily(e)) {
    return c.fixed ? fmt::format("COALESCE({}, 'N')", x) : fmt::format("COALESCE(CONCAT(LENGTH({0}), ':', {0}), 'N')", x);
  }
  if (c.fixed) return fmt::format("COALESCE(({})::text, 'N')", x);
  return utf8 ? fmt::format("COALESCE(octet_length(convert_to({0}, 'UTF8'))::text || ':' || ({0}), 'N')", x)
              : fmt::format("COALESCE(octet_length({0})::text || ':' || ({0}), 'N')", x);
}

std::optional<CompareColumn> InSql(const CompareColumn& c) {
  CompareColumn out = c;
  for (bool source : {true, false}) {
    Finish& f = source ? out.src_finish : out.dst_finish;
    std::string& sql = source ? out.src_sql : out.dst_sql;
    if (sql.empty() && f != Finish::kNone) return std::nullopt;
    if (sql.empty()) continue;
    (source ? out.src : out.dst) = sql;
    f = Finish::kNone;
  }
  return out;
}

std::optional<std::string_view> FinishValue(Finish f, std::string_view v, std::string* buf) {
  switch (f) {
    case Finish::kNone:
      return v;
    case Finish::kJsonb:
      JsonbText(v, buf);
      return std::string_view(*buf);
    case Finish::kFloat: {
      double d = 0;
      auto r = std::from_chars(v.data(), v.data() + v.size(), d);
      if (r.ec != std::errc() || r.ptr != v.data() + v.size()) return v;  // not a number: compared as it is
      *buf = PgFloat8Text(d);
      return std::string_view(*buf);
    }
    case Finish::kDateTimeZeroNull:
      if (ZeroDate(v)) return std::nullopt;  // as the load wrote it (values.h)
      [[fallthrough]];
    case Finish::kDateTime:
      if (v.find('.') != std::string_view::npos) {
        while (v.back() == '0') v.remove_suffix(1);
        if (v.back() == '.') v.remove_suffix(1);
      }
      return v;
  }
  return v;
}

std::string RowText(ir::Engine e, const std::vector<CompareColumn>& columns, bool source, bool utf8) {
  std::vector<std::string> parts;
  for (const auto& c : columns) parts.push_back(RowPart(e, c, source, utf8));
  if (parts.empty()) return "''";
  return fmt::format("{}('|', {})", ir::IsMysqlFamily(e) ? "CONCAT_WS" : "concat_ws", fmt::join(parts, ", "));
}

namespace {

// A small JSON reader that writes jsonb's text as it goes.
class Jsonb {
 public:
  explicit Jsonb(std::string_view in) : in_(in) {}
  bool Run(std::string* out) {
    if (!Value(out)) return false;
    Space();
    return i_ == in_.size();
  }

 private:
  void Space() {
    while (i_ < in_.size() && (in_[i_] == ' ' || in_[i_] == '\t' || in_[i_] == '\n' || in_[i_] == '\r')) ++i_;
  }
  bool Literal(std::string_view word, std::string* out) {
    if (in_.substr(i_, word.size()) != word) return false;
    i_ += word.size();
    out->append(word);
    return true;
  }
  static void Utf8(uint32_t cp, std::string* s) {
    if (cp < 0x80) s->push_back(static_cast<char>(cp));
    else if (cp < 0x800) {
      s->push_back(static_cast<char>(0xC0 | (cp >> 6)));
      s->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      s->push_back(static_cast<char>(0xE0 | (cp >> 12)));
      s->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      s->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      s->push_back(static_cast<char>(0xF0 | (cp >> 18)));
      s->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      s->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      s->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }
  bool Hex4(uint32_t* v) {
    if (i_ + 4 > in_.size()) return false;
    *v = 0;
    for (int k = 0; k < 4; ++k) {
      char c = in_[i_++];
      uint32_t d = c >= '0' && c <= '9' ? static_cast<uint32_t>(c - '0')
                   : (c | 0x20) >= 'a' && (c | 0x20) <= 'f' ? static_cast<uint32_t>((c | 0x20) - 'a' + 10) : 99;
      if (d > 15) return false;
      *v = *v * 16 + d;
    }
    return true;
  }
  // A string's value (escapes decoded).
  bool String(std::string* value) {
    if (i_ >= in_.size() || in_[i_] != '"') return false;
    ++i_;
    while (i_ < in_.size()) {
      size_t run = i_;  // the characters up to a quote or an escape go as they are
      while (run < in_.size() && in_[run] != '"' && in_[run] != '\\') ++run;
      value->append(in_.data() + i_, run - i_);
      i_ = run;
      if (i_ >= in_.size()) break;
      char c = in_[i_++];
      if (c == '"') return true;
      if (i_ >= in_.size()) return false;
      char e = in_[i_++];
      switch (e) {
        case '"': value->push_back('"'); break;
        case '\\': value->push_back('\\'); break;
        case '/': value->push_back('/'); break;
        case 'b': value->push_back('\b'); break;
        case 'f': value->push_back('\f'); break;
        case 'n': value->push_back('\n'); break;
        case 'r': value->push_back('\r'); break;
        case 't': value->push_back('\t'); break;
        case 'u': {
          uint32_t cp;
          if (!Hex4(&cp)) return false;
          if (cp >= 0xD800 && cp < 0xDC00 && in_.substr(i_, 2) == "\\u") {
            i_ += 2;
            uint32_t lo;
            if (!Hex4(&lo) || lo < 0xDC00 || lo > 0xDFFF) return false;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          }
          Utf8(cp, value);
          break;
        }
        default: return false;
      }
    }
    return false;
  }
  // As PostgreSQL's escape_json writes it.
  static void Quoted(std::string_view v, std::string* out) {
    out->push_back('"');
    size_t plain = 0;  // the characters up to one that is escaped go as they are
    while (plain < v.size() && v[plain] != '"' && v[plain] != '\\' && static_cast<unsigned char>(v[plain]) >= 0x20) {
      ++plain;
    }
    out->append(v.data(), plain);
    for (char c : v.substr(plain)) {
      switch (c) {
        case '"': out->append("\\\""); break;
        case '\\': out->append("\\\\"); break;
        case '\b': out->append("\\b"); break;
        case '\f': out->append("\\f"); break;
        case '\n': out->append("\\n"); break;
        case '\r': out->append("\\r"); break;
        case '\t': out->append("\\t"); break;
        default:
          if (static_cast<unsigned char>(c) < 0x20) out->append(fmt::format("\\u{:04x}", static_cast<int>(c)));
          else out->push_back(c);
      }
    }
    out->push_back('"');
  }
  // A number as numeric prints it: positional, with the scale the literal gave (less the exponent).
  bool Number(std::string* out) {
    size_t start = i_;
    bool neg = in_[i_] == '-';
    if (neg) ++i_;
    size_t a = i_;
    while (i_ < in_.size() && in_[i_] >= '0' && in_[i_] <= '9') ++i_;
    std::string_view ip = in_.substr(a, i_ - a), fp;
    if (ip.empty()) return false;
    if (i_ < in_.size() && in_[i_] == '.') {
      size_t b = ++i_;
      while (i_ < in_.size() && in_[i_] >= '0' && in_[i_] <= '9') ++i_;
      fp = in_.substr(b, i_ - b);
      if (fp.empty()) return false;
    }
    long exp = 0;
    if (i_ < in_.size() && (in_[i_] == 'e' || in_[i_] == 'E')) {
      ++i_;
      bool eneg = i_ < in_.size() && in_[i_] == '-';
      if (i_ < in_.size() && (in_[i_] == '-' || in_[i_] == '+')) ++i_;
      size_t b = i_;
      while (i_ < in_.size() && in_[i_] >= '0' && in_[i_] <= '9' && i_ - b < 6) exp = exp * 10 + (in_[i_++] - '0');
      if (i_ == b) return false;
      if (eneg) exp = -exp;
    }
    (void)start;
    if (fp.empty() && exp == 0 && (ip.size() == 1 || ip[0] != '0')) {  // an integer as written
      if (neg && ip != "0") out->push_back('-');
      out->append(ip);
      return true;
    }
    std::string digits = std::string(ip) + std::string(fp);
    long point = static_cast<long>(ip.size()) + exp;  // digits before the decimal point
    long scale = std::max<long>(0, static_cast<long>(fp.size()) - exp);
    std::string whole, frac;
    if (point <= 0) {
      whole = "0";
      frac = std::string(static_cast<size_t>(-point), '0') + digits;
    } else if (static_cast<size_t>(point) >= digits.size()) {
      whole = digits + std::string(static_cast<size_t>(point) - digits.size(), '0');
    } else {
      whole = digits.substr(0, static_cast<size_t>(point));
      frac = digits.substr(static_cast<size_t>(point));
    }
    frac.resize(static_cast<size_t>(scale), '0');
    size_t nz = whole.find_first_not_of('0');
    whole = nz == std::string::npos ? "0" : whole.substr(nz);
    bool zero = whole == "0" && frac.find_first_not_of('0') == std::string::npos;
    if (neg && !zero) out->push_back('-');
    out->append(whole);
    if (!frac.empty()) out->append(".").append(frac);
    return true;
  }
  bool Value(std::string* out) {
    if (++depth_ > 1000) return false;
    Space();
    if (i_ >= in_.size()) return false;
    bool ok;
    char c = in_[i_];
    if (c == '{') ok = Object(out);
    else if (c == '[') ok = Array(out);
    else if (c == '"') {
      std::string v;
      ok = String(&v);
      if (ok) Quoted(v, out);
    } else if (c == 't') ok = Literal("true", out);
    else if (c == 'f') ok = Literal("false", out);
    else if (c == 'n') ok = Literal("null", out);
    else ok = Number(out);
    --depth_;
    return ok;
  }
  bool Array(std::string* out) {
    ++i_;
    out->push_back('[');
    Space();
    if (i_ < in_.size() && in_[i_] == ']') {
      ++i_;
      out->push_back(']');
      return true;
    }
    for (bool first = true;; first = false) {
      if (!first) out->append(", ");
      if (!Value(out)) return false;
      Space();
      if (i_ >= in_.size()) return false;
      if (in_[i_] == ']') {
        ++i_;
        out->push_back(']');
        return true;
      }
      if (in_[i_++] != ',') return false;
    }
  }
  bool Object(std::string* out) {
    ++i_;
    std::vector<std::pair<std::string, std::string>> members;  // key, value as jsonb text
    Space();
    if (i_ < in_.size() && in_[i_] == '}') {
      ++i_;
      out->append("{}");
      return true;
    }
    while (true) {
      Space();
      std::string key, value;
      if (!String(&key)) return false;
      Space();
      if (i_ >= in_.size() || in_[i_++] != ':') return false;
      if (!Value(&value)) return false;
      members.emplace_back(std::move(key), std::move(value));
      Space();
      if (i_ >= in_.size()) return false;
      if (in_[i_] == '}') {
        ++i_;
        break;
      }
      if (in_[i_++] != ',') return false;
    }
    // jsonb's order: shorter keys first, then bytes; of equal keys the last one stays.
    std::stable_sort(members.begin(), members.end(), [](const auto& x, const auto& y) {
      return x.first.size() != y.first.size() ? x.first.size() < y.first.size() : x.first < y.first;
    });
    out->push_back('{');
    bool first = true;
    for (size_t k = 0; k < members.size(); ++k) {
      if (k + 1 < members.size() && members[k + 1].first == members[k].first) continue;
      if (!first) out->append(", ");
      first = false;
      Quoted(members[k].first, out);
      out->append(": ").append(members[k].second);
    }
    out->push_back('}');
    return true;
  }

  std::string_view in_;
  size_t i_ = 0;
  int depth_ = 0;
};

}  // namespace

void JsonbText(std::string_view text, std::string* out) {
  out->clear();
  if (!Jsonb(text).Run(out)) out->assign("invalid json: ").append(text);
}

std::string JsonbText(std::string_view text) {
  std::string out;
  JsonbText(text, &out);
  return out;
}

}  // namespace ferry::runtime
