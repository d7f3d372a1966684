#include "runtime/catalog.h"

namespace ferry::runtime {

const Index* Table::PrimaryKey() const {
  for (const auto& i : indexes) {
    if (i.primary) return &i;
  }
  return nullptr;
}

namespace {

// Key types whose order the chunk predicates could not express as literals: BIT compares as a
// number, ENUM/SET by position, floats round when printed.
bool Rangeable(const Column& c) {
  for (const char* bad : {"bit", "enum(", "set(", "float", "double", "real", "geometry"}) {
    if (c.type.rfind(bad, 0) == 0) return false;
  }
  return true;
}

}  // namespace

const Index* Table::ChunkKey() const {
  auto usable_columns = [this](const Index& i) {
    for (const auto& column : i.columns) {
      const Column* c = FindColumn(column);
      if (c == nullptr || !Rangeable(*c)) return false;
    }
    return !i.columns.empty();
  };
  if (const Index* pk = PrimaryKey(); pk != nullptr && usable_columns(*pk)) return pk;
  for (const auto& i : indexes) {
    if (!i.unique || i.primary || i.has_expression || !i.predicate.empty() || !usable_columns(i)) continue;
    bool usable = true;
    for (size_t k = 0; k < i.columns.size(); ++k) {
      const Column* c = FindColumn(i.columns[k]);
      if (c == nullptr || c->nullable || (k < i.prefix.size() && i.prefix[k] != 0)) usable = false;
    }
    if (usable) return &i;
  }
  return nullptr;
}

const Column* Table::FindColumn(std::string_view n) const {
  for (const auto& c : columns) {
    if (c.name == n) return &c;
  }
  return nullptr;
}

const Table* Schema::FindTable(std::string_view n) const {
  for (const auto& t : tables) {
    if (t.name == n) return &t;
  }
  return nullptr;
}

const View* Schema::FindView(std::string_view n) const {
  for (const auto& v : views) {
    if (v.name == n) return &v;
  }
  return nullptr;
}

const UserType* Schema::FindType(std::string_view n) const {
  for (const auto& t : types) {
    if (t.name == n) return &t;
  }
  return nullptr;
}

std::string UserType::KindName() const {
  switch (kind) {
    case Kind::kEnum: return "enum";
    case Kind::kDomain: return "domain";
    case Kind::kComposite: return "composite type";
    case Kind::kRange: return "range type";
  }
  return "type";
}

const Schema* Catalog::FindSchema(std::string_view n) const {
  for (const auto& s : schemas) {
    if (s.name == n) return &s;
  }
  return nullptr;
}

const Table* Catalog::FindTable(std::string_view schema, std::string_view table) const {
  const Schema* s = FindSchema(schema);
  return s != nullptr ? s->FindTable(table) : nullptr;
}

const UserType* Catalog::FindType(const TypeRef& ref) const {
  if (const Schema* s = FindSchema(ref.schema)) return s->FindType(ref.name);
  for (const auto& t : other_types) {
    if (t.schema == ref.schema && t.name == ref.name) return &t;
  }
  return nullptr;
}

StatusOr<std::vector<std::string>> ListSchemas(Connection& conn) {
  if (conn.engine() == ir::Engine::kPostgres) return ListSchemasPostgres(conn);
  if (ir::IsMysqlFamily(conn.engine())) return ListSchemasMysql(conn);
  return Status(Code::kUnimplemented, "reading a SQL Server catalog is not implemented");
}

StatusOr<Catalog> ReadCatalog(Connection& conn, const std::vector<std::string>& schemas) {
  if (conn.engine() == ir::Engine::kPostgres) return ReadCatalogPostgres(conn, schemas);
  if (ir::IsMysqlFamily(conn.engine())) return ReadCatalogMysql(conn, schemas);
  return Status(Code::kUnimplemented, "reading a SQL Server catalog is not implemented");
}

}  // namespace ferry::runtime
