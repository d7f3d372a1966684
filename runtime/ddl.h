// The destination DDL of a migration, per engine.
//
// `schema.pre` creates schemas and tables with their primary keys (and what a table needs
// to exist: identity sequences, enum CHECKs, comments); `schema.post` adds secondary
// indexes, foreign keys, routines, views, triggers (as the plan's `triggers` says) and
// events, and resets identity sequences after the load. Every identifier is quoted for the
// destination engine (sql.h). What cannot be carried faithfully across engines — a view's or
// routine's body, a default expression, a full-text index — is a Problem naming the object,
// never a silent omission.
#pragma once

#include <string>
#include <vector>

#include "compiler/ir.h"
#include "runtime/catalog.h"
#include "runtime/mapping.h"

namespace ferry::runtime {

struct DdlStatement {
  ir::StageKind stage = ir::StageKind::kSchemaPre;  // kSchemaPre or kSchemaPost
  std::string kind;        // schema, table, sequence, comment, index, primary key (one made of an
                           // index built before), foreign key, routine, view, trigger, event,
                           // sequence reset, table setting (PostgreSQL autovacuum_enabled reset
                           // after the load)
  std::string dst_schema;  // the destination object, for existence checks and messages
  std::string dst_table;   // the table it belongs to, when it belongs to one
  std::string name;        // the object's own name (an index's, a view's …)
  std::string sql;
  bool idempotent = false;    // safe to run again (IF NOT EXISTS, setval, COMMENT)
  bool run_in_schema = false; // run after USE / SET search_path to dst_schema (bodies with unqualified names)
  bool after_full = false;    // a trigger created only when the full load is done
  std::string loc;            // the plan rule that selected the object
  // What output and errors show instead of `sql`, when `sql` holds something secret (an
  // account's password hash); empty when `sql` may be shown.
  std::string shown;
  std::string secret;  // the secret text itself, masked wherever an error might echo it
  std::string sql_mode;  // MySQL family: the sql_mode a body was created under, set around it

  std::string Object() const;
  const std::string& Display() const { return shown.empty() ? sql : shown; }  // "table shop_v2.orders", "index shop_v2.orders.idx_total"
};

struct Ddl {
  std::vector<DdlStatement> statements;  // pre first, then post, in the order they must run
  std::vector<Problem> problems;
};

Ddl GenerateDdl(const ir::Migration& m, const Selection& selection, const Catalog& source);

// A destination default for a source column's default, or nullopt (with *why) when it
// cannot be translated. Exposed for tests.
std::optional<std::string> TranslateDefault(ir::Engine from, ir::Engine to, const std::string& expr,
                                            const std::string& dst_type, std::string* why);

}  // namespace ferry::runtime
