#include "runtime/ddl.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

#include "compiler/type_pattern.h"
#include "runtime/sql.h"

namespace ferry::runtime {

namespace {

using Sev = Problem::Severity;
using ir::Engine;

bool Mysql(Engine e) { return ir::IsMysqlFamily(e); }
bool SameFamily(Engine a, Engine b) { return a == b || (Mysql(a) && Mysql(b)); }

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string Trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return std::string(s.substr(b, e - b));
}

void ReplaceAll(std::string* s, std::string_view from, std::string_view to) {
  if (from.empty()) return;
  size_t pos = 0;
  while ((pos = s->find(from, pos)) != std::string::npos) {
    s->replace(pos, from.size(), to);
    pos += to.size();
  }
}

// A destination name no longer than the engine allows: cut, with a short stable hash of the
// whole name so that two long names cut to the same prefix stay distinct.
std::string FitName(Engine e, const std::string& name) {
  size_t limit = e == Engine::kPostgres ? 63 : 64;
  if (name.size() <= limit) return name;
  uint32_t h = 2166136261u;  // FNV-1a
  for (unsigned char c : name) h = (h ^ c) * 16777619u;
  std::string tail = fmt::format("_{:08x}", h);
  std::string head = name.substr(0, limit - tail.size());
  while (!head.empty() && (static_cast<unsigned char>(head.back()) & 0xC0) == 0x80) head.pop_back();
  if (!head.empty() && (static_cast<unsigned char>(head.back()) & 0x80)) head.pop_back();  // a cut lead byte
  return head + tail;
}

// Reads a quoted SQL literal at the start of `s` ('…' with '' and, for the MySQL family,
// backslash escapes). Returns the value, and the rest after it in *rest.
std::optional<std::string> ReadLiteral(std::string_view s, bool backslashes, std::string_view* rest) {
  if (s.empty() || s[0] != '\'') return std::nullopt;
  std::string v;
  for (size_t i = 1; i < s.size(); ++i) {
    char c = s[i];
    if (c == '\'') {
      if (i + 1 < s.size() && s[i + 1] == '\'') {
        v += '\'';
        ++i;
        continue;
      }
      *rest = s.substr(i + 1);
      return v;
    }
    if (c == '\\' && backslashes && i + 1 < s.size()) {
      char n = s[++i];
      switch (n) {
        case 'n': v += '\n'; break;
        case 't': v += '\t'; break;
        case 'r': v += '\r'; break;
        case '0': v += '\0'; break;
        case 'Z': v += '\x1a'; break;
        default: v += n;
      }
      continue;
    }
    v += c;
  }
  return std::nullopt;
}

bool IsNumber(std::string_view s) {
  if (s.empty()) return false;
  size_t i = (s[0] == '-' || s[0] == '+') ? 1 : 0;
  bool digits = false, dot = false;
  for (; i < s.size(); ++i) {
    if (std::isdigit(static_cast<unsigned char>(s[i]))) digits = true;
    else if (s[i] == '.' && !dot) dot = true;
    else if ((s[i] == 'e' || s[i] == 'E') && digits) return IsNumber(s.substr(i + 1)) || s.size() == i + 1;
    else return false;
  }
  return digits;
}

std::string TypeName(const std::string& type) {
  auto t = ParseSqlType(type);
  return t ? t->name : Lower(type);
}

std::string TypeArg(const std::string& type, size_t i) {
  auto t = ParseSqlType(type);
  return t && t->args.size() > i ? t->args[i] : "";
}

bool IsBoolType(Engine to, const std::string& dst_type) {
  std::string n = TypeName(dst_type);
  if (to == Engine::kPostgres) return n == "boolean" || n == "bool";
  return (n == "tinyint" && TypeArg(dst_type, 0) == "1") || n == "bool" || n == "boolean";
}

bool IsTextOrBlob(const std::string& dst_type) {
  static const std::set<std::string> kinds = {"tinytext", "text", "mediumtext", "longtext", "tinyblob",
                                              "blob", "mediumblob", "longblob", "json", "geometry"};
  return kinds.count(TypeName(dst_type)) > 0;
}

bool IsIntegerType(const std::string& dst_type) {
  static const std::set<std::string> ints = {"smallint", "integer", "int", "bigint", "int2", "int4", "int8",
                                             "tinyint", "mediumint"};
  auto t = ParseSqlType(dst_type);
  return t && ints.count(t->name) > 0;
}

// Bytes an index key part takes in InnoDB (utf8mb4: 4 bytes a character), or 0 when small.
int MysqlKeyBytes(const std::string& dst_type, int prefix) {
  auto t = ParseSqlType(dst_type);
  if (!t) return 0;
  int n = 0;
  if ((t->name == "varchar" || t->name == "char" || t->name == "varbinary" || t->name == "binary") &&
      !t->args.empty()) {
    n = std::atoi(t->args[0].c_str());
    if (t->name == "varchar" || t->name == "char") n *= 4;
  }
  if (prefix > 0) n = t->name.find("binary") != std::string::npos || t->name.find("blob") != std::string::npos
                          ? prefix
                          : prefix * 4;
  return n;
}

class Generator {
 public:
  Generator(const ir::Migration& m, const Selection& sel, const Catalog& src)
      : m_(m), sel_(sel), src_(src), to_(m.to_engine), from_(m.from_engine),
        // Without a full load the tables stay empty through the schema stages: on the MySQL
        // family their indexes and foreign keys then go into CREATE TABLE, which costs a
        // fraction of an ALTER TABLE each (a foreign key's ALTER copies the table).
        inline_keys_(ir::IsMysqlFamily(m.to_engine) && !m.Has(ir::MigrationType::kFull)),
        // Into PostgreSQL, a full load is faster into a table without its primary key, which is
        // then built once, sorted, in schema.post (as pg_restore does). Not with conflicts =
        // ignore: ON CONFLICT needs the key during the load.
        late_primary_key_(m.to_engine == Engine::kPostgres && m.Has(ir::MigrationType::kFull) &&
                          m.conflicts != ir::Conflicts::kIgnore),
        // Into PostgreSQL, a table created for a full load is kept from autovacuum until
        // schema.post is done: a worker vacuuming a just-loaded table holds the lock that
        // attaching its primary key or a foreign key needs, for a second (deadlock_timeout)
        // each time, and spends the CPU the load needs.
        hold_autovacuum_(m.to_engine == Engine::kPostgres && m.Has(ir::MigrationType::kFull)) {}

  Ddl Run() {
    for (const auto& s : sel_.schemas) CreateSchema(s);
    for (const auto& t : sel_.types) CreateType(t);
    if (inline_keys_) {  // gathered first, for CREATE TABLE
      for (const auto& t : sel_.tables) SecondaryIndexes(t);
      for (const auto& t : sel_.tables) ForeignKeys(t);
    }
    for (const auto& t : sel_.tables) CreateTable(t);
    if (!inline_keys_) {
      for (const auto& t : sel_.tables) SecondaryIndexes(t);
      for (const auto& t : sel_.tables) ForeignKeys(t);
    }
    for (const auto& s : sel_.schemas) {
      if (s.whole) Routines(s);
    }
    for (const auto& s : sel_.schemas) {
      if (s.whole) Views(s);
    }
    for (const auto& s : sel_.schemas) {
      if (s.whole) Triggers(s);
    }
    for (const auto& s : sel_.schemas) {
      if (s.whole) Events(s);
    }
    for (const auto& s : sel_.schemas) {
      if (s.whole) Sequences(s);
    }
    for (const auto& t : sel_.tables) ResetIdentity(t);
    for (const auto& t : sel_.tables) {
      if (!hold_autovacuum_) break;
      Emit(ir::StageKind::kSchemaPost, "table setting", t.dst_schema, t.dst_table, "autovacuum_enabled",
           fmt::format("ALTER TABLE {} RESET (autovacuum_enabled)", QN(t.dst_schema, t.dst_table)), t.loc)
          .idempotent = true;
    }
    // Pre before post, keeping each stage's order.
    std::stable_partition(out_.statements.begin(), out_.statements.end(),
                          [](const DdlStatement& d) { return d.stage == ir::StageKind::kSchemaPre; });
    return std::move(out_);
  }

 private:
  // The collation that compares strings as PostgreSQL does, byte by byte and trailing spaces
  // included: MariaDB's NO PAD binary one (10.2 and later). MySQL's utf8mb4_bin ignores trailing
  // spaces, but 5.7 has no other binary collation.
  std::string ExactCollation() const { return to_ == Engine::kMariadb ? "utf8mb4_nopad_bin" : "utf8mb4_bin"; }

  std::string Q(std::string_view name) const { return QuoteIdent(to_, name); }
  std::string QN(std::string_view schema, std::string_view name) const { return QuoteName(to_, schema, name); }
  std::string L(std::string_view text) const { return QuoteLiteral(to_, text); }

  void Add(Sev sev, std::string code, std::string object, std::string message, std::string hint,
           std::string loc) {
    out_.problems.push_back({sev, std::move(code), std::move(object), std::move(message), std::move(hint),
                             std::move(loc)});
  }

  DdlStatement& Emit(ir::StageKind stage, std::string kind, std::string schema, std::string table,
                     std::string name, std::string sql, std::string loc) {
    DdlStatement d;
    d.stage = stage;
    d.kind = std::move(kind);
    d.dst_schema = std::move(schema);
    d.dst_table = std::move(table);
    d.name = std::move(name);
    d.sql = std::move(sql);
    d.loc = std::move(loc);
    out_.statements.push_back(std::move(d));
    return out_.statements.back();
  }

  // ---- schemas and tables -----------------------------------------------------------

  void CreateSchema(const SchemaMapping& s) {
    std::string sql;
    if (Mysql(to_)) {
      std::string charset = "utf8mb4", collation = ExactCollation();
      if (Mysql(from_) && !s.source->charset.empty()) {
        charset = s.source->charset;
        collation = s.source->collation;
      }
      sql = fmt::format("CREATE DATABASE IF NOT EXISTS {} DEFAULT CHARACTER SET {} COLLATE {}", Q(s.dst),
                        charset, collation);
    } else {
      sql = fmt::format("CREATE SCHEMA IF NOT EXISTS {}", Q(s.dst));
    }
    Emit(ir::StageKind::kSchemaPre, "schema", s.dst, "", s.dst, sql, s.loc).idempotent = true;
  }

  // The catalog reader gives pg_catalog collations bare (C, POSIX) and others quoted and qualified.
  std::string Collation(const std::string& c) const { return c[0] == '"' ? c : Q(c); }

  // A type a user-defined type is made of: the same destination type it is mapped to, or a
  // built-in one as it is.
  std::string TypeOf(const std::string& printed, const TypeRef& ref) const {
    if (ref.empty()) return printed;
    for (const auto& t : sel_.types) {
      if (t.source->schema == ref.schema && t.source->name == ref.name) {
        return QN(t.dst_schema, t.source->name) + (ref.array ? "[]" : "");
      }
    }
    return printed;  // not reached: the mapper needs every type a needed type uses
  }

  // An expression of the source (a default, a domain's CHECK) with its casts to user-defined
  // types whose schema is renamed pointed at the destination's: PostgreSQL prints such a cast
  // schema-qualified ('ok'::app.mood), quoting a name only where it must.
  std::string Retype(std::string expr) const {
    auto printed = [](const std::string& name) {
      bool plain = !name.empty() && !(name[0] >= '0' && name[0] <= '9');
      for (char c : name) plain &= (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
      return plain ? name : QuoteIdent(Engine::kPostgres, name);
    };
    // Replaces whole names only: ::app.mood, not the start of ::app.moodish.
    auto replace = [&expr](const std::string& from, const std::string& to) {
      for (size_t pos = expr.find(from); pos != std::string::npos; pos = expr.find(from, pos)) {
        char next = pos + from.size() < expr.size() ? expr[pos + from.size()] : ' ';
        if (std::isalnum(static_cast<unsigned char>(next)) || next == '_' || next == '$') {
          pos += from.size();
          continue;
        }
        expr.replace(pos, from.size(), to);
        pos += to.size();
      }
    };
    for (const auto& t : sel_.types) {
      if (t.dst_schema == t.source->schema) continue;
      std::string to = "::" + QN(t.dst_schema, t.source->name);
      replace("::" + printed(t.source->schema) + "." + printed(t.source->name), to);
      replace("::" + QuoteName(Engine::kPostgres, t.source->schema, t.source->name), to);
    }
    return expr;
  }

  // PostgreSQL to PostgreSQL: an enum, domain, composite or range type, before the tables
  // that use it. A range is created with its subtype and collation; functions of its own
  // (canonical, subtype_diff) are not carried over (D016).
  void CreateType(const TypeMapping& tm) {
    const UserType& t = *tm.source;
    std::string name = QN(tm.dst_schema, t.name);
    std::string sql;
    switch (t.kind) {
      case UserType::Kind::kEnum: {
        std::vector<std::string> labels;
        for (const auto& l : t.labels) labels.push_back(L(l));
        sql = fmt::format("CREATE TYPE {} AS ENUM ({})", name, fmt::join(labels, ", "));
        break;
      }
      case UserType::Kind::kDomain: {
        sql = fmt::format("CREATE DOMAIN {} AS {}", name, TypeOf(t.base, t.base_type));
        if (!t.collation.empty()) sql += " COLLATE " + Collation(t.collation);
        if (t.default_expr) sql += " DEFAULT " + Retype(*t.default_expr);
        if (t.not_null) sql += " NOT NULL";
        for (const auto& c : t.checks) sql += fmt::format(" CONSTRAINT {} {}", Q(c.name), Retype(c.definition));
        break;
      }
      case UserType::Kind::kComposite: {
        std::vector<std::string> attrs;
        for (const auto& a : t.attributes) {
          std::string def = Q(a.name) + " " + TypeOf(a.type, a.user_type);
          if (!a.collation.empty()) def += " COLLATE " + Collation(a.collation);
          attrs.push_back(std::move(def));
        }
        sql = fmt::format("CREATE TYPE {} AS ({})", name, fmt::join(attrs, ", "));
        break;
      }
      case UserType::Kind::kRange:
        sql = fmt::format("CREATE TYPE {} AS RANGE (SUBTYPE = {}{})", name, TypeOf(t.base, t.base_type),
                          t.collation.empty() ? "" : ", COLLATION = " + Collation(t.collation));
        if (t.range_functions) {
          Add(Sev::kWarning, "D016", fmt::format("type {}.{}", tm.dst_schema, t.name),
              "the range type has a canonical or subtype_diff function of its own, which is not carried over: "
              "the destination's range is created without it",
              "create the range type with its functions in the destination before the migration, and set "
              "conflicts = ignore to keep it",
              tm.loc);
        }
        break;
    }
    Emit(ir::StageKind::kSchemaPre, "type", tm.dst_schema, "", t.name, sql, tm.loc);
    if (!t.comment.empty()) {
      Emit(ir::StageKind::kSchemaPre, "comment", tm.dst_schema, "", t.name,
           fmt::format("COMMENT ON {} {} IS {}", t.kind == UserType::Kind::kDomain ? "DOMAIN" : "TYPE", name,
                       L(t.comment)),
           tm.loc)
          .idempotent = true;
    }
  }

  std::string ColumnDefault(const TableMapping& t, const ColumnMapping& c) {
    const Column& sc = *c.source;
    if (!sc.default_expr || c.generated_as_data || !sc.generated.empty()) return "";
    std::string why;
    auto d = TranslateDefault(from_, to_, *sc.default_expr, c.type, &why);
    if (d && from_ == Engine::kPostgres && to_ == Engine::kPostgres) *d = Retype(std::move(*d));
    if (d && to_ == Engine::kMysql && IsTextOrBlob(c.type) && !d->empty() && d->front() != '(') {
      *d = "(" + *d + ")";  // MySQL 8 takes TEXT/BLOB/JSON defaults only as expressions
    }
    if (!d) {
      Add(Sev::kWarning, "D001", fmt::format("column {}.{}.{}", t.dst_schema, t.dst_table, c.name),
          fmt::format("the default `{}` is not carried over: {}", *sc.default_expr, why),
          "set the default in the destination after the migration", t.loc);
      return "";
    }
    return *d;
  }

  void CreateTable(const TableMapping& t) {
    const Table& st = *t.source;
    std::string table = QN(t.dst_schema, t.dst_table);
    std::vector<std::string> parts;
    std::vector<std::string> comments;  // PostgreSQL: COMMENT ON statements
    const Index* pk = st.PrimaryKey();
    bool auto_done = false;
    std::string auto_key;  // MySQL: an AUTO_INCREMENT column outside the primary key needs a key
    for (const auto& c : t.columns) {
      const Column& sc = *c.source;
      std::string def = Q(c.name) + " " + c.type;
      bool same = SameFamily(from_, to_);
      if (Mysql(to_)) {
        if (same && !sc.charset.empty() && !sc.json_alias) {
          def += " CHARACTER SET " + sc.charset;
          if (!sc.collation.empty()) def += " COLLATE " + sc.collation;
        }
        if (!sc.generated.empty() && !c.generated_as_data) {
          def += fmt::format(" GENERATED ALWAYS AS ({}) {}", sc.generated, sc.generated_stored ? "STORED" : "VIRTUAL");
        } else {
          if (!c.nullable) def += " NOT NULL";
          else if (TypeName(c.type) == "timestamp") def += " NULL";  // not the legacy implicit default
          std::string d = ColumnDefault(t, c);
          if (!d.empty()) def += " DEFAULT " + d;
          if (sc.auto_increment) {
            if (auto_done) {
              Add(Sev::kWarning, "D003", fmt::format("column {}.{}.{}", t.dst_schema, t.dst_table, c.name),
                  "MySQL allows one AUTO_INCREMENT column a table; this one is created without it",
                  "generate its values in the application or a trigger", t.loc);
            } else if (!IsIntegerType(c.type) && TypeName(c.type) != "float" && TypeName(c.type) != "double") {
              Add(Sev::kWarning, "D003", fmt::format("column {}.{}.{}", t.dst_schema, t.dst_table, c.name),
                  fmt::format("the source generates its values, but MySQL cannot AUTO_INCREMENT a {}", c.type),
                  "override the column's type with an integer type to keep it generated", t.loc);
            } else {
              def += " AUTO_INCREMENT";
              auto_done = true;
              if (pk == nullptr || pk->columns.empty() || pk->columns[0] != sc.name) auto_key = c.name;
            }
          }
        }
        if (!sc.comment.empty()) def += " COMMENT " + L(sc.comment);
      } else {  // PostgreSQL
        if (from_ == Engine::kPostgres && !sc.collation.empty()) {
          def += " COLLATE " + Collation(sc.collation);
        }
        if (!sc.generated.empty() && !c.generated_as_data) {
          def += fmt::format(" GENERATED ALWAYS AS ({}) STORED", sc.generated);
          if (!sc.generated_stored) {
            Add(Sev::kNote, "D006", fmt::format("column {}.{}.{}", t.dst_schema, t.dst_table, c.name),
                "a virtual generated column becomes a stored one: PostgreSQL has only stored generated columns",
                "", t.loc);
          }
        } else if (sc.auto_increment && sc.identity == "serial" && from_ == Engine::kPostgres) {
          std::string n = TypeName(c.type);
          def = Q(c.name) + " " + (n == "bigint" ? "bigserial" : n == "smallint" ? "smallserial" : "serial");
        } else if (sc.auto_increment && IsIntegerType(c.type)) {
          def += sc.identity == "always" ? " GENERATED ALWAYS AS IDENTITY" : " GENERATED BY DEFAULT AS IDENTITY";
          if (!c.nullable) def += " NOT NULL";
        } else {
          if (sc.auto_increment) {
            // numeric(20,0) from bigint unsigned: no identity possible; an owned sequence does it.
            std::string seq = FitName(to_, t.dst_table + "_" + c.name + "_seq");
            Emit(ir::StageKind::kSchemaPre, "sequence", t.dst_schema, "", seq,
                 fmt::format("CREATE SEQUENCE IF NOT EXISTS {} AS bigint", QN(t.dst_schema, seq)), t.loc)
                .idempotent = true;
            def += fmt::format(" DEFAULT nextval({}::regclass)", L(QN(t.dst_schema, seq)));
            comments.push_back(fmt::format("ALTER SEQUENCE {} OWNED BY {}.{}", QN(t.dst_schema, seq), table, Q(c.name)));
          } else {
            std::string d = ColumnDefault(t, c);
            if (!d.empty()) def += " DEFAULT " + d;
          }
          if (!c.nullable) def += " NOT NULL";
        }
        if (!sc.comment.empty()) {
          comments.push_back(fmt::format("COMMENT ON COLUMN {}.{} IS {}", table, Q(c.name), L(sc.comment)));
        }
      }
      parts.push_back(def);
      if (!c.enum_values.empty()) parts.push_back(EnumCheck(t, c));
    }
    if (pk != nullptr) {
      std::vector<std::string> cols;
      bool ok = true;
      for (size_t i = 0; i < pk->columns.size(); ++i) {
        const ColumnMapping* c = t.FindSource(pk->columns[i]);
        if (c == nullptr) {
          ok = false;
          break;
        }
        std::string part = Q(c->name);
        if (Mysql(to_) && IsTextOrBlob(c->type)) {
          Add(Sev::kError, "D004", fmt::format("table {}.{}", t.dst_schema, t.dst_table),
              fmt::format("primary key column {} becomes {} in {}, which cannot be part of a key without "
                          "a prefix, and a prefix would change what the key means",
                          c->name, c->type, ir::Name(to_)),
              fmt::format("override the column's type in the plan: `column {} {{ type = \"varchar(255)\" }}`",
                          c->source->name),
              t.loc);
        }
        if (Mysql(from_) && Mysql(to_) && i < pk->prefix.size() && pk->prefix[i] > 0) {
          part += fmt::format("({})", pk->prefix[i]);
        }
        cols.push_back(part);
      }
      if (ok) {
        if (Mysql(to_)) {
          parts.push_back("PRIMARY KEY (" + fmt::format("{}", fmt::join(cols, ", ")) + ")");
        } else {
          if (late_primary_key_) {
            late_keys_[&st] = fmt::format("{}", fmt::join(cols, ", "));
          } else {
            parts.push_back(fmt::format("CONSTRAINT {} PRIMARY KEY ({})", Q(FitName(to_, t.dst_table + "_pkey")),
                                        fmt::join(cols, ", ")));
          }
        }
        CheckKeyLength(t, *pk, "primary key");
      }
    }
    if (!auto_key.empty()) {
      // InnoDB wants a key that starts with the AUTO_INCREMENT column at CREATE time. The source
      // has one (it needs it too): create that index here rather than in schema.post.
      const Index* key = nullptr;
      for (const auto& idx : st.indexes) {
        if (!idx.primary && !idx.columns.empty() && !idx.has_expression && t.FindSource(idx.columns[0]) != nullptr &&
            t.FindSource(idx.columns[0])->name == auto_key) {
          bool all = true;
          for (const auto& cn : idx.columns) all &= t.FindSource(cn) != nullptr;
          if (all) {
            key = &idx;
            break;
          }
        }
      }
      if (key != nullptr && inline_keys_) {
        // Already among the table's inline indexes.
      } else if (key != nullptr) {
        std::vector<std::string> cols;
        for (size_t i = 0; i < key->columns.size(); ++i) {
          std::string p = Q(t.FindSource(key->columns[i])->name);
          if (Mysql(from_) && i < key->prefix.size() && key->prefix[i] > 0) p += fmt::format("({})", key->prefix[i]);
          cols.push_back(p);
        }
        parts.push_back(fmt::format("{}KEY {} ({})", key->unique ? "UNIQUE " : "", Q(FitName(to_, key->name)),
                                    fmt::join(cols, ", ")));
        in_pre_.insert({&st, key->name});
      } else {
        parts.push_back(fmt::format("KEY {} ({})", Q(FitName(to_, auto_key)), Q(auto_key)));
      }
    }
    Checks(t, &parts);
    if (auto it = inline_.find(&st); it != inline_.end()) parts.insert(parts.end(), it->second.begin(), it->second.end());
    std::string sql = fmt::format("CREATE TABLE {} (\n  {}\n)", table, fmt::join(parts, ",\n  "));
    if (Mysql(to_)) {
      std::string engine = Mysql(from_) && !st.engine.empty() ? st.engine : "InnoDB";
      sql += " ENGINE=" + engine;
      if (Mysql(from_) && !st.collation.empty()) {
        sql += " DEFAULT COLLATE=" + st.collation;
      } else {
        // PostgreSQL compares strings exactly; a case-insensitive default collation would
        // make unique keys collide on data the source holds without trouble.
        sql += " DEFAULT CHARSET=utf8mb4 COLLATE=" + ExactCollation();
      }
      if (!st.comment.empty()) sql += " COMMENT=" + L(st.comment);
    } else {
      if (hold_autovacuum_) sql += " WITH (autovacuum_enabled = false)";  // until schema.post resets it
      if (!st.comment.empty()) comments.push_back(fmt::format("COMMENT ON TABLE {} IS {}", table, L(st.comment)));
    }
    if (st.partitioned) {
      Add(Sev::kWarning, "D013", fmt::format("table {}.{}", t.dst_schema, t.dst_table),
          "the source table is partitioned; the destination table is created without partitions",
          "partition the destination table by hand before the load if you need it", t.loc);
    }
    Emit(ir::StageKind::kSchemaPre, "table", t.dst_schema, t.dst_table, t.dst_table, sql, t.loc);
    for (auto& c : comments) {
      Emit(ir::StageKind::kSchemaPre, "comment", t.dst_schema, t.dst_table, t.dst_table, c, t.loc).idempotent = true;
    }
  }

  std::string EnumCheck(const TableMapping& t, const ColumnMapping& c) {
    std::vector<std::string> values;
    for (const auto& v : c.enum_values) values.push_back(L(v));
    std::string name = Q(FitName(to_, t.dst_table + "_" + c.name + "_check"));
    if (c.is_set) {
      if (c.type.find("[]") != std::string::npos) {
        return fmt::format("CONSTRAINT {} CHECK ({} <@ ARRAY[{}]::text[])", name, Q(c.name), fmt::join(values, ", "));
      }
      return fmt::format("CONSTRAINT {} CHECK ({} IS NULL OR {} = '' OR string_to_array({}, ',') <@ ARRAY[{}]::text[])",
                         name, Q(c.name), Q(c.name), Q(c.name), fmt::join(values, ", "));
    }
    return fmt::format("CONSTRAINT {} CHECK ({} IN ({}))", name, Q(c.name), fmt::join(values, ", "));
  }

  void Checks(const TableMapping& t, std::vector<std::string>* parts) {
    for (const auto& ch : t.source->checks) {
      std::string expr = ch.expression;
      bool renamed = false;
      for (const auto& c : t.columns) renamed |= c.name != c.source->name;
      if (!SameFamily(from_, to_) || (renamed && !Mysql(to_))) {
        Add(Sev::kWarning, "D002", fmt::format("check {} on {}.{}", ch.name, t.dst_schema, t.dst_table),
            fmt::format("the check `{}` is {} SQL{}; it is not created", expr, ir::Name(from_),
                        SameFamily(from_, to_) ? " over renamed columns" : ", which Ferry does not translate"),
            "create it in the destination by hand after the migration", t.loc);
        continue;
      }
      if (renamed) {
        for (const auto& c : t.columns) ReplaceAll(&expr, "`" + c.source->name + "`", "`" + c.name + "`");
      }
      parts->push_back(fmt::format("CONSTRAINT {} CHECK ({})", Q(ch.name), expr));
    }
  }

  void CheckKeyLength(const TableMapping& t, const Index& idx, const std::string& what) {
    if (!Mysql(to_)) return;
    int total = 0;
    for (size_t i = 0; i < idx.columns.size(); ++i) {
      const ColumnMapping* c = t.FindSource(idx.columns[i]);
      if (c == nullptr) continue;
      int prefix = i < idx.prefix.size() ? idx.prefix[i] : 0;
      total += MysqlKeyBytes(c->type, prefix);
    }
    if (total > 3072) {
      Add(Sev::kError, "D005", fmt::format("{} {} on {}.{}", what, idx.name, t.dst_schema, t.dst_table),
          fmt::format("the key is {} bytes long in {} (utf8mb4 takes 4 bytes a character); InnoDB allows 3072",
                      total, ir::Name(to_)),
          "override a key column's type with a shorter varchar in the plan", t.loc);
    }
  }

  // ---- secondary indexes and foreign keys ---------------------------------------------

  void SecondaryIndexes(const TableMapping& t) {
    std::vector<std::string> mysql_parts;
    std::string object = fmt::format("table {}.{}", t.dst_schema, t.dst_table);
    if (auto late = late_keys_.find(t.source); late != late_keys_.end()) {
      // First among the table's indexes: foreign keys that reference it come after. Built as a
      // unique index, which may be built beside the table's other indexes (ADD PRIMARY KEY
      // would lock them out), then made the primary key, which reads nothing.
      std::string name = FitName(to_, t.dst_table + "_pkey");
      Emit(ir::StageKind::kSchemaPost, "index", t.dst_schema, t.dst_table, name,
           fmt::format("CREATE UNIQUE INDEX {} ON {} ({})", Q(name), QN(t.dst_schema, t.dst_table), late->second),
           t.loc);
      Emit(ir::StageKind::kSchemaPost, "primary key", t.dst_schema, t.dst_table, name,
           fmt::format("ALTER TABLE {} ADD CONSTRAINT {} PRIMARY KEY USING INDEX {}", QN(t.dst_schema, t.dst_table),
                       Q(name), Q(name)),
           t.loc);
    }
    for (const auto& idx : t.source->indexes) {
      if (idx.primary || in_pre_.count({t.source, idx.name})) continue;
      std::string iobj = fmt::format("index {} on {}.{}", idx.name, t.dst_schema, t.dst_table);
      bool missing = false;
      std::vector<const ColumnMapping*> cols;
      for (const auto& cn : idx.columns) {
        const ColumnMapping* c = cn.empty() ? nullptr : t.FindSource(cn);
        if (!cn.empty() && c == nullptr) missing = true;
        cols.push_back(c);
      }
      if (missing) {
        Add(Sev::kNote, "D020", iobj, "not created: it covers a column the plan excludes", "", t.loc);
        continue;
      }
      if (SameFamily(from_, to_) && to_ == Engine::kPostgres) {
        PostgresIndexSameEngine(t, idx, iobj);
        continue;
      }
      if (idx.has_expression || !idx.predicate.empty()) {
        if (SameFamily(from_, to_)) {
          Add(Sev::kWarning, "D021", iobj,
              "not created: it indexes an expression, which Ferry does not copy between MySQL servers yet",
              "create it by hand after the migration", t.loc);
        } else {
          Add(Sev::kWarning, "D021", iobj,
              fmt::format("not created: it indexes an expression or has a WHERE clause in {} SQL, which Ferry "
                          "does not translate",
                          ir::Name(from_)),
              "create an equivalent index in the destination by hand", t.loc);
        }
        continue;
      }
      std::string method = Lower(idx.method);
      if (Mysql(to_)) {
        std::string kind = idx.unique ? "UNIQUE INDEX" : "INDEX";
        if (method == "fulltext") kind = "FULLTEXT INDEX";
        if (method == "spatial") kind = "SPATIAL INDEX";
        if (!Mysql(from_) && method != "btree" && method != "hash") {
          Add(Sev::kWarning, "D022", iobj,
              fmt::format("not created: a PostgreSQL {} index has no MySQL equivalent", method),
              "create a suitable index in the destination by hand", t.loc);
          continue;
        }
        std::vector<std::string> parts;
        bool bad = false;
        for (size_t i = 0; i < cols.size(); ++i) {
          std::string p = Q(cols[i]->name);
          int prefix = i < idx.prefix.size() ? idx.prefix[i] : 0;
          if (!Mysql(from_) && IsTextOrBlob(cols[i]->type) && method != "fulltext") {
            if (idx.unique) {
              Add(Sev::kError, "D004", iobj,
                  fmt::format("unique key column {} becomes {} in {}, which needs a prefix to be indexed, and a "
                              "prefix would change what the key means",
                              cols[i]->name, cols[i]->type, ir::Name(to_)),
                  fmt::format("override the column's type in the plan: `column {} {{ type = \"varchar(255)\" }}`",
                              cols[i]->source->name),
                  t.loc);
              bad = true;
            }
            prefix = 255;
          }
          if (prefix > 0) p += fmt::format("({})", prefix);
          if (i < idx.descending.size() && idx.descending[i]) p += " DESC";
          parts.push_back(p);
        }
        if (bad) continue;
        CheckKeyLength(t, idx, "index");
        std::string name = FitName(to_, idx.name);
        mysql_parts.push_back(fmt::format("{} {} ({})", kind, Q(name), fmt::join(parts, ", ")));
        names_.push_back(name);
      } else {  // MySQL family → PostgreSQL
        std::string using_clause;
        if (method == "fulltext") {
          Add(Sev::kWarning, "D022", iobj,
              "not created: a MySQL FULLTEXT index has no direct PostgreSQL equivalent",
              fmt::format("create a GIN index over to_tsvector(…) on {}.{} by hand", t.dst_schema, t.dst_table), t.loc);
          continue;
        }
        if (method == "spatial") using_clause = " USING gist";
        if (method == "hash" && !idx.unique) using_clause = " USING hash";
        std::vector<std::string> parts;
        for (size_t i = 0; i < cols.size(); ++i) {
          int prefix = i < idx.prefix.size() ? idx.prefix[i] : 0;
          // A prefix index keeps its meaning as an index on the prefix (also for UNIQUE).
          std::string p = prefix > 0 ? fmt::format("(left({}, {}))", Q(cols[i]->name), prefix) : Q(cols[i]->name);
          if (TypeName(cols[i]->type) == "bytea" && prefix > 0) {
            p = fmt::format("(substring({} from 1 for {}))", Q(cols[i]->name), prefix);
          }
          if (i < idx.descending.size() && idx.descending[i]) p += " DESC";
          parts.push_back(p);
        }
        std::string name = FitName(to_, t.dst_table + "_" + idx.name);
        Emit(ir::StageKind::kSchemaPost, "index", t.dst_schema, t.dst_table, name,
             fmt::format("CREATE {}INDEX {} ON {}{} ({})", idx.unique ? "UNIQUE " : "", Q(name),
                         QN(t.dst_schema, t.dst_table), using_clause, fmt::join(parts, ", ")),
             t.loc);
      }
    }
    if (!mysql_parts.empty() && inline_keys_) {
      auto& v = inline_[t.source];
      v.insert(v.end(), mysql_parts.begin(), mysql_parts.end());
    } else if (!mysql_parts.empty()) {
      // One ALTER TABLE for all of a table's indexes: InnoDB reads the table once.
      for (auto& p : mysql_parts) p = "ADD " + p;
      Emit(ir::StageKind::kSchemaPost, "index", t.dst_schema, t.dst_table, fmt::format("{}", fmt::join(names_, ", ")),
           fmt::format("ALTER TABLE {}\n  {}", QN(t.dst_schema, t.dst_table), fmt::join(mysql_parts, ",\n  ")), t.loc);
    }
    names_.clear();
    (void)object;
  }

  void PostgresIndexSameEngine(const TableMapping& t, const Index& idx, const std::string& iobj) {
    // pg_get_indexdef(): CREATE [UNIQUE] INDEX name ON [ONLY] schema.table USING method (…) …
    const std::string& def = idx.definition;
    size_t using_pos = def.find(" USING ");
    if (using_pos == std::string::npos) {
      Add(Sev::kWarning, "D021", iobj, "not created: its definition could not be read", "", t.loc);
      return;
    }
    std::string rest = def.substr(using_pos);
    bool renamed = false;
    for (const auto& c : t.columns) renamed |= c.name != c.source->name;
    if (renamed && (idx.has_expression || !idx.predicate.empty())) {
      Add(Sev::kWarning, "D021", iobj,
          "not created: it uses an expression or WHERE clause over a table whose columns the plan renames",
          "create it by hand after the migration", t.loc);
      return;
    }
    if (renamed) {
      std::vector<std::string> parts;
      for (size_t i = 0; i < idx.columns.size(); ++i) {
        std::string p = Q(t.FindSource(idx.columns[i])->name);
        if (i < idx.descending.size() && idx.descending[i]) p += " DESC";
        parts.push_back(p);
      }
      rest = fmt::format(" USING {} ({})", idx.method, fmt::join(parts, ", "));
    }
    std::string name = idx.name;
    if (t.dst_table != t.source->name && idx.name.rfind(t.source->name + "_", 0) == 0) {
      name = FitName(to_, t.dst_table + idx.name.substr(t.source->name.size()));
    }
    Emit(ir::StageKind::kSchemaPost, "index", t.dst_schema, t.dst_table, name,
         fmt::format("CREATE {}INDEX {} ON {}{}", idx.unique ? "UNIQUE " : "", Q(name), QN(t.dst_schema, t.dst_table),
                     rest),
         t.loc);
  }

  void ForeignKeys(const TableMapping& t) {
    for (const auto& fk : t.source->foreign_keys) {
      std::string obj = fmt::format("foreign key {} on {}.{}", fk.name, t.dst_schema, t.dst_table);
      const TableMapping* ref = sel_.FindSource(fk.ref_schema, fk.ref_table);
      if (ref == nullptr) {
        Add(Sev::kWarning, "D030", obj,
            fmt::format("not created: it references {}.{}, which the plan does not migrate", fk.ref_schema,
                        fk.ref_table),
            "select the referenced table too, or create the key by hand", t.loc);
        continue;
      }
      std::vector<std::string> cols, rcols;
      bool missing = false;
      for (const auto& c : fk.columns) {
        const ColumnMapping* m = t.FindSource(c);
        if (m == nullptr) missing = true;
        else cols.push_back(Q(m->name));
      }
      for (const auto& c : fk.ref_columns) {
        const ColumnMapping* m = ref->FindSource(c);
        if (m == nullptr) missing = true;
        else rcols.push_back(Q(m->name));
      }
      if (missing) {
        Add(Sev::kWarning, "D030", obj, "not created: it covers a column the plan excludes", "", t.loc);
        continue;
      }
      std::string name = FitName(to_, fk.name);
      if (Mysql(to_) && !fk_names_.insert({t.dst_schema, name}).second) {
        // PostgreSQL names a foreign key per table, MySQL per schema.
        name = FitName(to_, t.dst_table + "_" + fk.name);
        fk_names_.insert({t.dst_schema, name});
      }
      std::string clause = fmt::format("CONSTRAINT {} FOREIGN KEY ({}) REFERENCES {} ({})", Q(name),
                                       fmt::join(cols, ", "), QN(ref->dst_schema, ref->dst_table), fmt::join(rcols, ", "));
      auto action = [&](const std::string& a) {
        // MySQL's SET DEFAULT is accepted by the parser and rejected by InnoDB.
        if (Mysql(to_) && a == "SET DEFAULT") return std::string("RESTRICT");
        return a;
      };
      // InnoDB's RESTRICT is NO ACTION (both check at once); only say what differs from the default.
      auto plain = [&](const std::string& a) { return a == "NO ACTION" || (Mysql(from_) && a == "RESTRICT"); };
      if (!plain(fk.on_delete)) clause += " ON DELETE " + action(fk.on_delete);
      if (!plain(fk.on_update)) clause += " ON UPDATE " + action(fk.on_update);
      if (inline_keys_) {
        inline_[t.source].push_back(clause);
        continue;
      }
      Emit(ir::StageKind::kSchemaPost, "foreign key", t.dst_schema, t.dst_table, name,
           fmt::format("ALTER TABLE {} ADD {}", QN(t.dst_schema, t.dst_table), clause), t.loc);
    }
  }

  // ---- bodies: routines, views, triggers, events -----------------------------------------

  bool RenamesIn(const SchemaMapping& s) const {
    for (const auto& t : sel_.tables) {
      if (t.source->schema != s.source->name) continue;
      if (t.dst_table != t.source->name) return true;
      for (const auto& c : t.columns) {
        if (c.name != c.source->name) return true;
      }
    }
    return false;
  }

  // Rewrites schema (and, for the MySQL family, table) qualifiers in a body copied between
  // servers of one engine family.
  std::string RewriteBody(const SchemaMapping& s, std::string body) const {
    if (Mysql(to_)) {
      for (const auto& t : sel_.tables) {
        ReplaceAll(&body, QuoteName(from_, t.source->schema, t.source->name), QN(t.dst_schema, t.dst_table));
      }
      for (const auto& sm : sel_.schemas) {
        if (sm.dst != sm.source->name) ReplaceAll(&body, QuoteIdent(from_, sm.source->name) + ".", Q(sm.dst) + ".");
      }
    } else if (s.dst != s.source->name) {
      for (const auto& sm : sel_.schemas) {
        if (sm.dst == sm.source->name) continue;
        ReplaceAll(&body, QuoteIdent(from_, sm.source->name) + ".", Q(sm.dst) + ".");
        ReplaceAll(&body, " " + sm.source->name + ".", " " + Q(sm.dst) + ".");
        ReplaceAll(&body, "(" + sm.source->name + ".", "(" + Q(sm.dst) + ".");
      }
    }
    return body;
  }

  bool CrossEngine(const SchemaMapping& s, const std::string& what, size_t count, const std::string& names) {
    if (SameFamily(from_, to_) || count == 0) return false;
    Add(Sev::kWarning, "D010", fmt::format("schema {}", s.dst),
        fmt::format("{} {}{} not migrated ({}): {} {} SQL, which Ferry does not translate to {}", count, what,
                    count == 1 ? "" : "s", names, count == 1 ? "its body is" : "their bodies are", ir::Name(from_),
                    ir::Name(to_)),
        "create them in the destination by hand; `ferry plan --dry-run` lists them", s.loc);
    return true;
  }

  template <typename T>
  static std::string Names(const std::vector<T>& v) {
    std::vector<std::string> n;
    for (const auto& x : v) n.push_back(x.name);
    if (n.size() > 6) {
      n.resize(6);
      n.push_back("…");
    }
    return fmt::format("{}", fmt::join(n, ", "));
  }

  void Routines(const SchemaMapping& s) {
    const auto& rs = s.source->routines;
    if (CrossEngine(s, "routine", rs.size(), Names(rs))) return;
    for (const auto& r : rs) {
      std::string sql = r.definition;
      if (to_ == Engine::kPostgres) {
        sql = RewriteBody(s, sql);
      }
      auto& d = Emit(ir::StageKind::kSchemaPost, "routine", s.dst, "", Mysql(to_) ? r.name : r.signature, sql, s.loc);
      d.run_in_schema = true;
      d.sql_mode = r.sql_mode;
      d.idempotent = to_ == Engine::kPostgres;  // CREATE OR REPLACE
    }
  }

  void Views(const SchemaMapping& s) {
    const auto& vs = s.source->views;
    if (CrossEngine(s, "view", vs.size(), Names(vs))) return;
    if (!Mysql(to_) && RenamesIn(s) && !vs.empty()) {
      Add(Sev::kWarning, "D011", fmt::format("schema {}", s.dst),
          "the plan renames tables or columns that views of this schema may use; view bodies are copied with "
          "only schema names rewritten",
          "check the views after the migration", s.loc);
    }
    // Views over views: create the ones others use first.
    std::vector<const View*> order;
    std::set<const View*> placed;
    for (size_t round = 0; round <= vs.size() && order.size() < vs.size(); ++round) {
      for (const auto& v : vs) {
        if (placed.count(&v)) continue;
        bool ready = true;
        for (const auto& w : vs) {
          if (&w == &v || placed.count(&w)) continue;
          bool uses = Mysql(from_) ? v.definition.find(QuoteIdent(from_, w.name)) != std::string::npos
                                   : std::find(v.depends_on.begin(), v.depends_on.end(), w.name) != v.depends_on.end();
          if (uses) {
            ready = round == vs.size();  // a cycle cannot be; the last round places the rest
          }
        }
        if (ready) {
          order.push_back(&v);
          placed.insert(&v);
        }
      }
    }
    for (const View* v : order) {
      if (Trim(v->definition).empty()) {
        Add(Sev::kError, "D015", fmt::format("view {}.{}", s.source->name, v->name),
            "its definition is hidden from the source user, so it cannot be recreated",
            "grant the source user SHOW VIEW and SELECT on the schema, or exclude the schema's views by selecting "
            "its tables one by one",
            s.loc);
        continue;
      }
      std::string body = RewriteBody(s, Trim(v->definition));
      std::string sql;
      if (v->materialized) {
        sql = fmt::format("CREATE MATERIALIZED VIEW {} AS {}", QN(s.dst, v->name), body);
      } else {
        sql = fmt::format("CREATE VIEW {} AS {}", QN(s.dst, v->name), body);
        if (v->check_option == "LOCAL" || v->check_option == "CASCADED") sql += " WITH " + v->check_option + " CHECK OPTION";
      }
      auto& d = Emit(ir::StageKind::kSchemaPost, "view", s.dst, "", v->name, sql, s.loc);
      d.run_in_schema = true;
      if (!v->comment.empty() && to_ == Engine::kPostgres) {
        Emit(ir::StageKind::kSchemaPost, "comment", s.dst, "", v->name,
             fmt::format("COMMENT ON {}VIEW {} IS {}", v->materialized ? "MATERIALIZED " : "", QN(s.dst, v->name),
                         L(v->comment)),
             s.loc)
            .idempotent = true;
      }
    }
  }

  void Triggers(const SchemaMapping& s) {
    const auto& ts = s.source->triggers;
    if (ts.empty()) return;
    if (m_.triggers == ir::Triggers::kNone) {
      Add(Sev::kNote, "D012", fmt::format("schema {}", s.dst),
          fmt::format("{} trigger(s) not migrated ({}): the plan says triggers = none", ts.size(), Names(ts)), "",
          s.loc);
      return;
    }
    if (CrossEngine(s, "trigger", ts.size(), Names(ts))) return;
    for (const auto& tr : ts) {
      const TableMapping* t = sel_.FindSource(s.source->name, tr.table);
      if (t == nullptr) continue;
      std::string sql;
      if (Mysql(to_)) {
        std::string body = tr.body;
        for (const auto& c : t->columns) {
          if (c.name != c.source->name) {
            Add(Sev::kWarning, "D011", fmt::format("trigger {}.{}", s.dst, tr.name),
                "its table's columns are renamed by the plan; the trigger body is copied as written",
                "check the trigger after the migration", t->loc);
            break;
          }
        }
        sql = fmt::format("CREATE TRIGGER {} {} {} ON {} FOR EACH ROW {}", QN(s.dst, tr.name), tr.timing, tr.events,
                          QN(t->dst_schema, t->dst_table), RewriteBody(s, tr.body));
      } else {
        // pg_get_triggerdef(): CREATE [CONSTRAINT] TRIGGER name <timing events> ON table <rest>
        const std::string& def = tr.definition;
        size_t on = def.find(" ON ");
        size_t rest = std::string::npos;
        for (const char* kw : {" FROM ", " NOT DEFERRABLE", " DEFERRABLE", " REFERENCING ", " FOR EACH "}) {
          size_t p = def.find(kw, on == std::string::npos ? 0 : on + 4);
          if (p != std::string::npos && (rest == std::string::npos || p < rest)) rest = p;
        }
        if (on == std::string::npos || rest == std::string::npos) {
          Add(Sev::kWarning, "D011", fmt::format("trigger {}.{}", s.dst, tr.name),
              "not created: its definition could not be read", "", s.loc);
          continue;
        }
        size_t name_end = def.find(' ', std::string("CREATE TRIGGER ").size());
        std::string head = def.substr(name_end, on - name_end);
        sql = fmt::format("CREATE TRIGGER {}{} ON {}{}", Q(tr.name), head, QN(t->dst_schema, t->dst_table),
                          RewriteBody(s, def.substr(rest)));
      }
      auto& d = Emit(ir::StageKind::kSchemaPost, "trigger", s.dst, t->dst_table, tr.name, sql, s.loc);
      d.run_in_schema = true;
      d.sql_mode = tr.sql_mode;
      d.after_full = m_.triggers == ir::Triggers::kAfterFull;
    }
  }

  void Events(const SchemaMapping& s) {
    const auto& es = s.source->events;
    if (es.empty()) return;
    if (!Mysql(to_)) {
      Add(Sev::kWarning, "D010", fmt::format("schema {}", s.dst),
          fmt::format("{} event(s) not migrated ({}): PostgreSQL has no scheduled events", es.size(), Names(es)),
          "schedule them with pg_cron or outside the database", s.loc);
      return;
    }
    if (!m_.events) {
      Add(Sev::kNote, "D012", fmt::format("schema {}", s.dst),
          fmt::format("{} event(s) not migrated ({}): set events = true to migrate them", es.size(), Names(es)), "",
          s.loc);
      return;
    }
    for (const auto& e : es) {
      // Created disabled: a purge job must not start deleting rows in the destination while it
      // is still being loaded and fed changes. Enabling it belongs to the cutover.
      std::string sql = RewriteBody(s, e.definition);
      size_t body = sql.find(" DO ");
      size_t enable = sql.rfind(" ENABLE", body);
      if (body != std::string::npos && enable != std::string::npos) sql.replace(enable, 7, " DISABLE ON SLAVE");
      auto& d = Emit(ir::StageKind::kSchemaPost, "event", s.dst, "", e.name, sql, s.loc);
      d.run_in_schema = true;
      d.sql_mode = e.sql_mode;
    }
    Add(Sev::kNote, "D014", fmt::format("schema {}", s.dst),
        fmt::format("{} event(s) ({}) are created disabled (DISABLE ON SLAVE), so that they do not run against the "
                    "destination before the cutover",
                    es.size(), Names(es)),
        fmt::format("at the cutover: ALTER EVENT {}.<name> ENABLE", Q(s.dst)), s.loc);
  }

  void Sequences(const SchemaMapping& s) {
    for (const auto& q : s.source->sequences) {
      if (!q.owned_by_table.empty()) continue;  // serial and identity sequences come with their column
      if (to_ != Engine::kPostgres) {
        Add(Sev::kWarning, "D010", fmt::format("sequence {}.{}", s.dst, q.name),
            "not migrated: Ferry does not create PostgreSQL sequences in the MySQL family",
            "replace it by an AUTO_INCREMENT column or create a MariaDB sequence by hand", s.loc);
        continue;
      }
      Emit(ir::StageKind::kSchemaPre, "sequence", s.dst, "", q.name,
           fmt::format("CREATE SEQUENCE IF NOT EXISTS {} AS {} INCREMENT BY {} MINVALUE {} MAXVALUE {} START WITH {}{}",
                       QN(s.dst, q.name), q.data_type, q.increment, q.min, q.max, q.start, q.cycle ? " CYCLE" : ""),
           s.loc)
          .idempotent = true;
      if (q.last_value) {
        Emit(ir::StageKind::kSchemaPost, "sequence reset", s.dst, "", q.name,
             fmt::format("SELECT setval({}, {}, true)", L(QN(s.dst, q.name)), *q.last_value), s.loc)
            .idempotent = true;
      }
    }
  }

  // After the load, a destination sequence must continue after the largest value loaded.
  void ResetIdentity(const TableMapping& t) {
    if (to_ != Engine::kPostgres) return;  // InnoDB moves AUTO_INCREMENT past inserted values itself
    for (const auto& c : t.columns) {
      if (!c.source->auto_increment || c.generated_as_data) continue;
      std::string table = QN(t.dst_schema, t.dst_table);
      Emit(ir::StageKind::kSchemaPost, "sequence reset", t.dst_schema, t.dst_table, c.name,
           fmt::format("SELECT setval(pg_get_serial_sequence({}, {}), (COALESCE((SELECT max({}) FROM {}), 0) + 1)::bigint, false)",
                       L(table), L(c.name), Q(c.name), table),
           t.loc)
          .idempotent = true;
    }
  }

  const ir::Migration& m_;
  const Selection& sel_;
  const Catalog& src_;
  Engine to_;
  Engine from_;
  Ddl out_;
  std::vector<std::string> names_;
  bool inline_keys_;
  std::map<const Table*, std::vector<std::string>> inline_;  // index and FK clauses for CREATE TABLE
  std::set<std::pair<const Table*, std::string>> in_pre_;   // indexes created with their table
  bool late_primary_key_;
  bool hold_autovacuum_;
  std::map<const Table*, std::string> late_keys_;  // PostgreSQL primary keys added in schema.post: their columns
  std::set<std::pair<std::string, std::string>> fk_names_;  // MySQL: FK names are per schema
};

}  // namespace

std::string DdlStatement::Object() const {
  if (kind == "schema") return "schema " + dst_schema;
  if (kind == "table") return "table " + dst_schema + "." + dst_table;
  if (!dst_table.empty()) return kind + " " + name + " on " + dst_schema + "." + dst_table;
  return kind + " " + dst_schema + "." + name;
}

std::optional<std::string> TranslateDefault(Engine from, Engine to, const std::string& expr_in,
                                            const std::string& dst_type, std::string* why) {
  std::string expr = Trim(expr_in);
  if (SameFamily(from, to)) return expr;
  std::string lower = Lower(expr);
  if (lower == "null") return std::nullopt;
  bool dst_bool = IsBoolType(to, dst_type);
  std::string dst_name = TypeName(dst_type);
  auto literal = [&](const std::string& v) -> std::optional<std::string> {
    if (dst_bool) {
      if (v == "0" || v == "f" || v == "false") return std::string(Mysql(to) ? "0" : "false");
      if (v == "1" || v == "t" || v == "true") return std::string(Mysql(to) ? "1" : "true");
      *why = "`" + v + "` is not a boolean";
      return std::nullopt;
    }
    if (to == Engine::kPostgres && dst_type.find("[]") != std::string::npos) {  // a SET → text[]
      std::string arr = "{";
      size_t start = 0;
      if (!v.empty()) {
        while (true) {
          size_t comma = v.find(',', start);
          std::string item = v.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
          if (arr.size() > 1) arr += ",";
          arr += "\"" + item + "\"";
          if (comma == std::string::npos) break;
          start = comma + 1;
        }
      }
      return QuoteLiteral(to, arr + "}");
    }
    if (v.rfind("0000-00-00", 0) == 0) {
      *why = "a zero date has no equivalent";
      return std::nullopt;
    }
    if (IsNumber(v) && dst_name != "varchar" && dst_name != "char" && dst_name != "text" &&
        dst_name != "character varying" && dst_name != "character")
      return v;
    return QuoteLiteral(to, v);
  };
  if (Mysql(from)) {
    std::string_view rest;
    if (auto v = ReadLiteral(expr, true, &rest); v && Trim(rest).empty()) return literal(*v);
    if (IsNumber(expr)) return literal(expr);
    if (lower.rfind("b'", 0) == 0 && lower.back() == '\'') {  // bit literal
      std::string bits = expr.substr(2, expr.size() - 3);
      if (dst_bool) return std::string(bits.find('1') != std::string::npos ? "true" : "false");
      return "B'" + bits + "'";
    }
    if (lower.rfind("current_timestamp", 0) == 0 || lower.rfind("now(", 0) == 0 || lower == "localtimestamp" ||
        lower.rfind("localtimestamp(", 0) == 0) {
      return std::string("CURRENT_TIMESTAMP");
    }
    if (lower == "curdate()" || lower == "current_date" || lower == "current_date()") return std::string("CURRENT_DATE");
    if (lower == "uuid()" && dst_name == "uuid") return std::string("gen_random_uuid()");
    *why = "it is a MySQL expression, which Ferry does not translate";
    return std::nullopt;
  }
  // PostgreSQL → the MySQL family. Defaults print as 'text'::type or (number)::type.
  std::string e = expr;
  std::string_view rest;
  if (auto v = ReadLiteral(e, false, &rest)) {
    std::string r = Trim(rest);
    if (r.empty() || r.rfind("::", 0) == 0) return literal(*v);
  }
  if (size_t cast = e.find("::"); cast != std::string::npos && e.find('(') == std::string::npos) e = e.substr(0, cast);
  if (e.size() > 2 && e.front() == '(' && e.back() == ')') e = e.substr(1, e.size() - 2);
  if (size_t cast = e.find(")::"); cast != std::string::npos && e.front() == '(') e = e.substr(1, cast - 1);
  if (IsNumber(e)) return literal(e);
  std::string le = Lower(e);
  if (le == "true" || le == "false") {
    if (dst_bool || IsIntegerType(dst_type)) return std::string(le == "true" ? "1" : "0");
    return literal(le);
  }
  if (le == "now()" || le == "current_timestamp" || le == "localtimestamp" || le == "statement_timestamp()" ||
      le == "transaction_timestamp()") {
    std::string p = TypeArg(dst_type, 0);
    if (dst_name == "datetime" || dst_name == "timestamp") {
      return p.empty() || p == "0" ? std::string("CURRENT_TIMESTAMP") : "CURRENT_TIMESTAMP(" + p + ")";
    }
  }
  if (le == "current_date" && dst_name == "date") return std::string("(CURRENT_DATE)");
  if (le == "gen_random_uuid()" || le == "uuid_generate_v4()") return std::string("(uuid())");
  *why = "it is a PostgreSQL expression, which Ferry does not translate";
  return std::nullopt;
}

Ddl GenerateDdl(const ir::Migration& m, const Selection& selection, const Catalog& source) {
  return Generator(m, selection, source).Run();
}

}  // namespace ferry::runtime
