// ferry_meta: the run state Ferry keeps in the destination (DESIGN.md "Runtime semantics"),
// so that resuming needs nothing but the destination itself.
//
// Today it records the objects the schema stages create, per migration: intent rows are
// written before a batch of DDL statements runs and marked done after it, so a run killed in
// between (MySQL-family DDL commits on its own) still knows the objects are its own. Precheck
// then treats those objects as "ours, resume" rather than as conflicts. The full load's
// runs, chunks and stream positions will live in the same schema.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "compiler/ir.h"
#include "runtime/connection.h"

namespace ferry::runtime {

inline constexpr const char* kMetaSchema = "ferry_meta";

// Who "a migration" is across runs: its name, its source and the schemas it writes ("shop_to_pg
// from mariadb://10.0.0.5:3306/ into shop_v2"), so that two plans that both name their
// migration `m` never take each other's tables or chunks for their own.
std::string MigrationKey(const ir::Migration& m, const ir::Endpoint& source);

// The objects (DdlStatement::Object() keys) that earlier runs of the migration created or
// began to create; empty when ferry_meta does not exist yet. Read-only.
// *done (when given) receives those whose creation completed.
StatusOr<std::set<std::string>> ReadCreatedObjects(Connection& dst, const std::string& migration_key,
                                                   std::set<std::string>* done = nullptr);

// Creates ferry_meta and its tables when missing (idempotent).
Status EnsureMeta(Connection& dst);

enum class ObjectState { kCreating, kDone };
// Records objects of the migration in one statement (an upsert of their state).
Status RecordObjects(Connection& dst, const std::string& migration_key, const std::vector<std::string>& objects,
                     ObjectState state);

// ---- the full load ----------------------------------------------------------------------

// One key-range chunk of a table. Bounds are the chunk key's values as text (a JSON array,
// one element a key column); `lo` is exclusive, `hi` inclusive; empty means unbounded.
struct ChunkRecord {
  std::string table;  // the source table, "schema.table"
  int no = 0;
  std::string lo;
  std::string hi;
  bool done = false;
  int64_t rows = 0;
  int64_t bytes = 0;
};

// The chunks planned for the migration (in table, number order); empty when none are.
StatusOr<std::vector<ChunkRecord>> ReadChunks(Connection& dst, const std::string& migration_key);
// Stores a table's planned chunks, all pending, in one transaction.
Status PlanChunks(Connection& dst, const std::string& migration_key, const std::vector<ChunkRecord>& chunks);
// Forgets the chunks of these source tables ("schema.table"): their destination tables are
// being created anew, so no chunk of an earlier run holds rows any more. Runs in the caller's
// transaction, if any.
Status ForgetChunks(Connection& dst, const std::string& migration_key, const std::vector<std::string>& tables);
// Whether a chunk is marked done (after a lost connection, the commit may have happened).
StatusOr<bool> ChunkDone(Connection& dst, const std::string& migration_key, const ChunkRecord& chunk);
// The statement that marks a chunk done; it runs inside the transaction that writes the
// chunk's rows, so that rows and checkpoint commit together. It changes no row when the chunk
// is done already (then that transaction must roll back: another attempt committed it).
std::string ChunkDoneSql(ir::Engine engine, const std::string& migration_key, const ChunkRecord& chunk);

// The lease: one `ferry apply` of a migration at a time. Taken when free, expired, or held by
// a process of this host that no longer runs (a killed apply). *holder says who has it.
struct LeaseHolder {
  std::string owner;  // "host pid N since …"
};
StatusOr<bool> AcquireLease(Connection& dst, const std::string& migration_key, int seconds, LeaseHolder* holder);
// False when this process no longer holds the lease (it lapsed, or another run took it).
StatusOr<bool> RenewLease(Connection& dst, const std::string& migration_key, int seconds);
Status ReleaseLease(Connection& dst, const std::string& migration_key);

// The run's state for `ferry status`: running, done, failed, stopped; with the last error.
Status RecordRun(Connection& dst, const std::string& migration_key, const std::string& state, const std::string& stage,
                 const std::string& error);
struct RunRecord {
  std::string state, stage, error, started_at, updated_at, lease_owner, lease_expires;
  bool lease_live = false;
};
StatusOr<std::optional<RunRecord>> ReadRun(Connection& dst, const std::string& migration_key);

// ---- verify ---------------------------------------------------------------------------------
// A verify run's chunks and what each found, so that a killed verify resumes where it
// stopped. A finished run is never reused: the next verify starts afresh.

struct VerifyRun {
  std::string mode;   // count, checksum, rows
  std::string state;  // running, equal, differs
};
struct VerifyChunk {
  ChunkRecord range;     // table, number, bounds (rows and bytes unused)
  std::string state;     // pending, equal, differs
  int64_t src_rows = 0, dst_rows = 0;
  std::string result;    // JSON: the differences found (verify.cc)
};

StatusOr<std::optional<VerifyRun>> ReadVerifyRun(Connection& dst, const std::string& migration_key);
// Forgets any earlier run's chunks and records a new run as running, in one transaction.
Status StartVerifyRun(Connection& dst, const std::string& migration_key, const std::string& mode);
Status FinishVerifyRun(Connection& dst, const std::string& migration_key, const std::string& state);
StatusOr<std::vector<VerifyChunk>> ReadVerifyChunks(Connection& dst, const std::string& migration_key);
Status PlanVerifyChunks(Connection& dst, const std::string& migration_key, const std::vector<ChunkRecord>& chunks);
Status RecordVerifyChunk(Connection& dst, const std::string& migration_key, const VerifyChunk& chunk);

}  // namespace ferry::runtime
