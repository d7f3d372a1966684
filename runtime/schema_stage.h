// The schema stages: runs the DDL of schema.pre or schema.post against the destination.
//
// An object the destination already has is left alone (precheck has decided, through
// `conflicts`, whether that is allowed), so running the stage again after a failure picks up
// where it stopped. On PostgreSQL, schema.pre runs in one transaction: either every table
// is created or none is. A failure names the stage, the object, the plan line and the SQL.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "runtime/context.h"

namespace ferry::runtime {

// Whether the destination (as read into ctx.destination.catalog) already holds the object.
bool DestinationHas(const MigrationContext& ctx, const DdlStatement& d);

struct SchemaStageOptions {
  bool full_done = true;  // triggers with `after_full` are created only once the load is done
  // Called before each statement with what happens to it: "create", "exists" or "deferred".
  // Index builds call it from their own threads, one call at a time.
  std::function<void(const DdlStatement&, const std::string& action)> on_statement;
  // schema.post builds indexes on up to `parallel` connections that `connect` opens to the
  // destination.
  int parallel = 1;
  std::function<StatusOr<std::unique_ptr<Connection>>()> connect;
  // Statements this process has run already (an IndexBuilder's): skipped, and not reported.
  const std::set<const DdlStatement*>* done = nullptr;
  // Once *stop is set (Ctrl-C), the index builds under way are cancelled and no other starts.
  const std::atomic<bool>* stop = nullptr;
  // Told what the user should know that is not an error (a cancel that could not be sent).
  std::function<void(const std::string&)> on_notice;
};

Status RunSchemaStage(MigrationContext& ctx, Connection& dst, ir::StageKind stage, const SchemaStageOptions& options);

// A run that fails or stops after schema.pre gives back what schema.post would have: the
// settings held for the load (PostgreSQL autovacuum) of the tables this migration created.
// Best effort: the first failure, after trying them all.
Status RestoreTableSettings(MigrationContext& ctx, Connection& dst);

struct StatementRunner;  // runs one statement of a stage (schema_stage.cc)

// Builds schema.post's indexes (the kind "index" statements the destination does not have yet),
// a table's as soon as its rows are all there (the DAG's load(t) → schema.post(t)), on up to
// options.parallel connections of its own, while the load of other tables goes on. On
// PostgreSQL every index is built on its own, so that a table's indexes are built side by side;
// on the MySQL family a table's indexes are one ALTER TABLE, which holds the table. The largest
// table's index released goes first. Each build is recorded in ferry_meta before and after, as
// the schema stages record theirs.
class IndexBuilder {
 public:
  IndexBuilder(MigrationContext& ctx, SchemaStageOptions options);
  ~IndexBuilder();  // stops: waits for the builds under way, starts no other
  IndexBuilder(const IndexBuilder&) = delete;
  IndexBuilder& operator=(const IndexBuilder&) = delete;

  // The rows of this destination table are all loaded: its indexes may be built.
  void TableLoaded(const std::string& dst_schema, const std::string& dst_table);
  // Releases every table not released yet, waits for every build, and returns the first
  // failure (naming the stage, the index, the plan line and the SQL). Once *options.stop is set
  // (Ctrl-C), here or in Stop, no other build starts and those under way are cancelled: then
  // kCancelled naming them, unless a build had failed on its own (that failure, first).
  Status Finish();
  // Starts no other build, and waits for those under way to end (the load failed) or, with
  // `cancel` (the load was stopped), cancels them; the first failure among them, if any.
  Status Stop(bool cancel = false);
  // The objects being built now ("index orders_created_idx on shop.orders").
  std::vector<std::string> Running();
  // The statements built, for SchemaStageOptions::done. Once Finish or Stop has returned.
  const std::set<const DdlStatement*>& built() const { return built_; }

 private:
  struct Unit {
    std::string schema, table;                    // the destination table
    std::vector<const DdlStatement*> statements;  // run in order on one connection; empty once taken
    int64_t size = 0;                             // the table's estimated rows
    bool released = false;
  };
  void Worker();
  Status Build(const StatementRunner& runner, const std::vector<const DdlStatement*>& statements,
               std::unique_ptr<Connection>& conn);
  Status Wait(bool cancel);
  std::string ParallelBuildSetting();  // the SET a PostgreSQL build runs first
  Status Run(const StatementRunner& runner, Connection& conn, const DdlStatement& d);

  MigrationContext& ctx_;
  SchemaStageOptions opt_;
  std::vector<Unit> units_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::set<std::string> running_;  // the objects being built
  std::set<Connection*> busy_;     // the connections running a build's statement now
  int cancel_passes_ = 0;          // cancel requests being sent (outside the lock) to busy_
  bool cancelling_ = false;        // asked to cancel: builds that end cancelled are not failures
  std::vector<std::string> cancelled_;  // the objects whose builds were cancelled
  int live_ = 0;                   // workers not gone yet
  bool stopping_ = false;  // no new build starts
  bool closing_ = false;   // every unit is released: workers leave once the queue is empty
  Status failed_;
  std::set<const DdlStatement*> built_;
  std::vector<std::thread> threads_;
};

}  // namespace ferry::runtime
