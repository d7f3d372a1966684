#include "runtime/verify/normalize.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <nlohmann/json.hpp>
#include <optional>

#include "compiler/type_pattern.h"
#include "runtime/sql.h"

namespace ferry::runtime {

namespace {

// What a column holds, as far as comparing it goes.
enum class Kind { kText, kChar, kInteger, kBool, kDecimal, kFloat, kBits, kSet, kBinary, kDate, kDatetime, kTime,
                  kJson, kOther };

struct Type {
  Kind kind = Kind::kOther;
  SqlType sql;
  bool zoned = false;   // PostgreSQL timetz
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
    else if (Is(n, {"geometry", "point", "linestring", "polygon", "multipoint", "multilinestring", "multipolygon",
                    "geometrycollection"})) t.kind = Kind::kBinary;
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

std::string Datetime(const Side& s, int p) {
  if (ir::IsMysqlFamily(s.engine)) {
    if (p == s.type.precision) return s.col;
    return fmt::format("LEFT(DATE_FORMAT({}, '%Y-%m-%d %H:%i:%s.%f'), {})", s.col, p > 0 ? 20 + p : 19);
  }
  return fmt::format("to_char({}, 'YYYY-MM-DD HH24:MI:SS{}')", s.col, p > 0 ? fmt::format(".FF{}", p) : "");
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
  Side src{from, QuoteIdent(from, c.source->name), Classify(from, c.source->type, c.source->json_alias), c.source};
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
      if (s->type.kind == Kind::kBool) e = s->col + "::int::text";
      else if (s->type.kind == Kind::kBits) e = ir::IsMysqlFamily(s->engine) ? fmt::format("CAST({} AS UNSIGNED)", s->col) : fmt::format("{}::int::text", s->col);
      else e = Plain(*s);
    }
  } else if (any(Kind::kFloat) && both({Kind::kFloat, Kind::kDecimal, Kind::kInteger})) {
    out.src = FloatText(from, Double(src));
    out.dst = FloatText(to, Double(dst));
  } else if (both({Kind::kDecimal, Kind::kInteger})) {
    int sa = a == Kind::kInteger ? 0 : src.type.scale, sb = b == Kind::kInteger ? 0 : dst.type.scale;
    bool trim = sa != sb || sa < 0;
    out.src = a == Kind::kInteger && ir::IsMysqlFamily(from) && src.type.sql.name == "year"
                  ? fmt::format("CAST({} AS UNSIGNED)", src.col)
                  : Decimal(src, trim);
    out.dst = Decimal(dst, trim);
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
  } else if (both({Kind::kDatetime})) {
    int p = std::max(src.type.precision, dst.type.precision);
    out.src = Datetime(src, p);
    out.dst = Datetime(dst, p);
  } else if (both({Kind::kTime})) {
    out.src = Time(src);
    out.dst = Time(dst);
  } else if (any(Kind::kJson) && !same_engine) {
    out.json = true;
    out.src = Plain(src);
    out.dst = Plain(dst);
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
    out.src = ZeroDatesAsNull(src, out.src);
  }
  return out;
}

std::string RowText(ir::Engine e, const std::vector<CompareColumn>& columns, bool source) {
  bool my = ir::IsMysqlFamily(e);
  std::vector<std::string> parts;
  for (const auto& c : columns) {
    if (c.json) continue;
    const std::string& x = source ? c.src : c.dst;
    if (c.fixed) parts.push_back(my ? fmt::format("COALESCE({}, 'N')", x) : fmt::format("COALESCE(({})::text, 'N')", x));
    else if (my) parts.push_back(fmt::format("COALESCE(CONCAT(LENGTH({0}), ':', {0}), 'N')", x));
    else parts.push_back(fmt::format("COALESCE(octet_length({0})::text || ':' || ({0}), 'N')", x));
  }
  if (parts.empty()) return "''";
  return fmt::format("{}('|', {})", my ? "CONCAT_WS" : "concat_ws", fmt::join(parts, ", "));
}

std::string CanonicalNumber(std::string_view v) {
  bool neg = !v.empty() && v[0] == '-';
  std::string_view u = neg || (!v.empty() && v[0] == '+') ? v.substr(1) : v;
  size_t epos = u.find_first_of("eE");
  std::string_view m = u.substr(0, epos);
  long exp = 0;
  if (epos != std::string_view::npos) {
    std::string_view x = u.substr(epos + 1);
    if (!x.empty() && x[0] == '+') x.remove_prefix(1);
    auto r = std::from_chars(x.data(), x.data() + x.size(), exp);
    if (r.ec != std::errc() || r.ptr != x.data() + x.size()) return std::string(v);
  }
  size_t dot = m.find('.');
  std::string_view ip = m.substr(0, dot), fp = dot == std::string_view::npos ? "" : m.substr(dot + 1);
  std::string d = std::string(ip) + std::string(fp);
  if (d.empty() || d.find_first_not_of("0123456789") != std::string::npos) return std::string(v);
  size_t lead = d.find_first_not_of('0');
  if (lead == std::string::npos) return "0";
  exp += static_cast<long>(ip.size()) - static_cast<long>(lead);
  d = d.substr(lead);
  d.erase(d.find_last_not_of('0') + 1);
  return fmt::format("{}{}e{}", neg ? "-" : "", d, exp);
}

namespace {

void Canonical(const nlohmann::json& j, std::string* out) {
  switch (j.type()) {
    case nlohmann::json::value_t::object: {
      out->push_back('{');
      bool first = true;
      for (const auto& [k, v] : j.items()) {  // std::map: keys in byte order
        if (!first) out->push_back(',');
        first = false;
        out->append(nlohmann::json(k).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
        out->push_back(':');
        Canonical(v, out);
      }
      out->push_back('}');
      return;
    }
    case nlohmann::json::value_t::array: {
      out->push_back('[');
      for (size_t i = 0; i < j.size(); ++i) {
        if (i) out->push_back(',');
        Canonical(j[i], out);
      }
      out->push_back(']');
      return;
    }
    case nlohmann::json::value_t::number_integer: out->append(CanonicalNumber(std::to_string(j.get<int64_t>()))); return;
    case nlohmann::json::value_t::number_unsigned: out->append(CanonicalNumber(std::to_string(j.get<uint64_t>()))); return;
    case nlohmann::json::value_t::number_float: {
      char buf[64];
      auto r = std::to_chars(buf, buf + sizeof buf, j.get<double>());
      out->append(CanonicalNumber(std::string_view(buf, static_cast<size_t>(r.ptr - buf))));
      return;
    }
    default: out->append(j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  }
}

}  // namespace

std::string CanonicalJson(std::string_view text) {
  nlohmann::json j = nlohmann::json::parse(text.begin(), text.end(), nullptr, false);
  if (j.is_discarded()) return "invalid json: " + std::string(text);
  std::string out;
  Canonical(j, &out);
  return out;
}

}  // namespace ferry::runtime
