// ferry_meta: the run state Ferry keeps in the destination (DESIGN.md "Runtime semantics"),
// so that resuming needs nothing but the destination itself.
//
// Today it records the objects the schema stages create, per migration: intent rows are
// written before a batch of DDL statements runs and marked done after it, so a run killed in
// between (MySQL-family DDL commits on its own) still knows the objects are its own. Precheck
// then treats those objects as "ours, resume" rather than as conflicts. The full load's
// runs, chunks and stream positions will live in the same schema.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "compiler/ir.h"
#include "runtime/connection.h"

namespace ferry::runtime {

inline constexpr const char* kMetaSchema = "ferry_meta";

// Who "a migration" is across runs: its name and its source ("shop_to_pg from
// mariadb://10.0.0.5:3306/"), so that two plans that both name their migration `m` never
// take each other's tables for their own.
std::string MigrationKey(const ir::Migration& m, const ir::Endpoint& source);

// The objects (DdlStatement::Object() keys) that earlier runs of the migration created or
// began to create; empty when ferry_meta does not exist yet. Read-only.
StatusOr<std::set<std::string>> ReadCreatedObjects(Connection& dst, const std::string& migration_key);

// Creates ferry_meta and its tables when missing (idempotent).
Status EnsureMeta(Connection& dst);

enum class ObjectState { kCreating, kDone };
// Records objects of the migration in one statement (an upsert of their state).
Status RecordObjects(Connection& dst, const std::string& migration_key, const std::vector<std::string>& objects,
                     ObjectState state);

}  // namespace ferry::runtime
