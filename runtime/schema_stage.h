// The schema stages: runs the DDL of schema.pre or schema.post against the destination.
//
// An object the destination already has is left alone (precheck has decided, through
// `conflicts`, whether that is allowed), so running the stage again after a failure picks up
// where it stopped. On PostgreSQL, schema.pre runs in one transaction: either every table
// is created or none is. A failure names the stage, the object, the plan line and the SQL.
#pragma once

#include <functional>
#include <string>

#include "runtime/context.h"

namespace ferry::runtime {

// Whether the destination (as read into ctx.destination.catalog) already holds the object.
bool DestinationHas(const MigrationContext& ctx, const DdlStatement& d);

struct SchemaStageOptions {
  bool full_done = true;  // triggers with `after_full` are created only once the load is done
  // Called before each statement with what happens to it: "create", "exists" or "deferred".
  std::function<void(const DdlStatement&, const std::string& action)> on_statement;
  // schema.post builds indexes on up to `parallel` connections: the one given, and more that
  // `connect` opens to the same destination.
  int parallel = 1;
  std::function<StatusOr<std::unique_ptr<Connection>>()> connect;
};

Status RunSchemaStage(MigrationContext& ctx, Connection& dst, ir::StageKind stage, const SchemaStageOptions& options);

}  // namespace ferry::runtime
