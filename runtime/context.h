// Everything the runtime knows about one migration before it writes anything: both
// connections, both catalogs, the selection and the DDL. precheck, `plan --dry-run` and
// apply all start here, so they see the same thing.
#pragma once

#include <memory>
#include <optional>
#include <set>
#include <string>

#include "compiler/ir.h"
#include "runtime/catalog.h"
#include "runtime/connection.h"
#include "runtime/ddl.h"
#include "runtime/mapping.h"

namespace ferry::runtime {

struct Side {
  const ir::Endpoint* endpoint = nullptr;
  std::unique_ptr<Connection> conn;
  Status connect;         // why conn is null
  std::optional<cloud::Resolution> resolution;  // an endpoint given by `instance`: how it was resolved
  Catalog catalog;        // the selected schemas (source) or the destination schemas (destination)
  Status catalog_status;  // why the catalog could not be read
  std::vector<std::string> schemas;  // every user schema the connection sees
};

struct MigrationContext {
  const ir::Plan* plan = nullptr;
  const ir::Migration* migration = nullptr;
  Side source;
  Side destination;
  Selection selection;
  Ddl ddl;
  bool prepared = false;  // both catalogs read, selection and DDL made
  // Destination objects earlier runs of this migration created (ferry_meta): resumed, not
  // conflicts.
  std::set<std::string> ours;
  std::set<std::string> ours_done;  // of those, the ones whose creation completed
  std::string migration_key;  // meta.h MigrationKey

  bool DestinationHasTable(const std::string& schema, const std::string& table) const;
  bool Ours(const std::string& object) const { return ours.count(object) > 0; }
  bool OursDone(const std::string& object) const { return ours_done.count(object) > 0; }
};

// A new connection to one side of `ctx`. Its options are made afresh each time, so an endpoint
// given by `instance` is resolved again (with renewed credentials, when they near their
// expiry) after a connection was lost.
StatusOr<std::unique_ptr<Connection>> ConnectTo(const MigrationContext& ctx, const Side& side);

// Connects to both endpoints and reads what is needed. Both sessions are read-only; nothing
// is written. Failures are recorded in the context (precheck reports them as items).
std::unique_ptr<MigrationContext> Prepare(const ir::Plan& plan, const ir::Migration& migration);

}  // namespace ferry::runtime
