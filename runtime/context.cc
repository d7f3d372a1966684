#include "runtime/context.h"

#include "runtime/accounts.h"
#include "runtime/meta.h"

#include <algorithm>
#include <set>

namespace ferry::runtime {

namespace {

void Open(Side& side, const ir::Plan& plan, const ir::Migration& m, const ir::Endpoint* ep) {
  side.endpoint = ep;
  cloud::Resolution resolution;
  auto opts = OptionsFor(plan, m, *ep, &resolution);
  if (ep->host.empty()) side.resolution = resolution;
  if (!opts.ok()) {
    side.connect = opts.status();
    return;
  }
  auto conn = Connect(*opts);
  if (!conn.ok()) {
    side.connect = conn.status();
    return;
  }
  side.conn = std::move(conn).value();
  Status st = side.conn->SetReadOnly();
  if (!st.ok()) {
    side.connect = st.Prefix("endpoint " + ep->name + ": cannot make the session read-only");
    side.conn.reset();
  }
}

}  // namespace

StatusOr<std::unique_ptr<Connection>> ConnectTo(const MigrationContext& ctx, const Side& side) {
  auto o = OptionsFor(*ctx.plan, *ctx.migration, *side.endpoint);
  if (!o.ok()) return o.status();
  return Connect(*o);
}

bool MigrationContext::DestinationHasTable(const std::string& schema, const std::string& table) const {
  return destination.catalog.FindTable(schema, table) != nullptr;
}

std::unique_ptr<MigrationContext> Prepare(const ir::Plan& plan, const ir::Migration& m) {
  auto ctx = std::make_unique<MigrationContext>();
  ctx->plan = &plan;
  ctx->migration = &m;
  Open(ctx->source, plan, m, plan.FindEndpoint(m.from));
  ctx->migration_key = MigrationKey(m, *ctx->source.endpoint);
  Open(ctx->destination, plan, m, plan.FindEndpoint(m.to));
  if (!ctx->source.conn) return ctx;

  auto names = ListSchemas(*ctx->source.conn);
  if (!names.ok()) {
    Status st = names.status();
    ctx->source.catalog_status = st.Prefix("listing the schemas of endpoint " + m.from);
    return ctx;
  }
  ctx->source.schemas = *names;
  auto cat = ReadCatalog(*ctx->source.conn, SelectSchemas(m, *names));
  if (!cat.ok()) {
    ctx->source.catalog_status = cat.status();
    return ctx;
  }
  ctx->source.catalog = std::move(cat).value();
  ctx->selection = Select(plan, m, ctx->source.catalog);
  ctx->ddl = GenerateDdl(m, ctx->selection, ctx->source.catalog);

  if (!ctx->destination.conn) return ctx;
  auto dnames = ListSchemas(*ctx->destination.conn);
  if (!dnames.ok()) {
    Status st = dnames.status();
    ctx->destination.catalog_status = st.Prefix("listing the schemas of endpoint " + m.to);
    return ctx;
  }
  ctx->destination.schemas = *dnames;
  std::set<std::string> present(dnames->begin(), dnames->end());
  std::vector<std::string> wanted;
  for (const auto& s : ctx->selection.schemas) {
    if (present.count(s.dst) && std::find(wanted.begin(), wanted.end(), s.dst) == wanted.end()) wanted.push_back(s.dst);
  }
  auto dcat = ReadCatalog(*ctx->destination.conn, wanted);
  if (!dcat.ok()) {
    ctx->destination.catalog_status = dcat.status();
    return ctx;
  }
  ctx->destination.catalog = std::move(dcat).value();
  auto ours = ReadCreatedObjects(*ctx->destination.conn, ctx->migration_key, &ctx->ours_done);
  if (!ours.ok()) {
    ctx->destination.catalog_status = ours.status();
    return ctx;
  }
  ctx->ours = std::move(ours).value();
  if (m.accounts && m.Has(ir::MigrationType::kSchema)) AddAccountDdl(*ctx);
  ctx->prepared = true;
  return ctx;
}

}  // namespace ferry::runtime
