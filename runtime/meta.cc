#include "runtime/meta.h"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdint>

#include <unistd.h>

#include <fstream>
#include <functional>

#include "runtime/sql.h"

namespace ferry::runtime {

namespace {

std::string Table(ir::Engine e) { return QuoteName(e, kMetaSchema, "schema_objects"); }

// The row key: a stable 64-bit FNV-1a of migration and object, in hex. Object names can be
// long (a MySQL ALTER TABLE adding many indexes is one object); the key stays short.
std::string Key(const std::string& migration, const std::string& object) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : migration + '\n' + object) h = (h ^ c) * 1099511628211ull;
  return fmt::format("{:016x}", h);
}

// Whether ferry_meta has every table this version uses (an older version's ferry_meta gets
// the tables it lacks).
bool Exists(Connection& dst) {
  auto r = dst.Query(ir::IsMysqlFamily(dst.engine())
                         ? "SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'ferry_meta' AND "
                           "TABLE_NAME IN ('schema_objects', 'verify_chunks') HAVING COUNT(*) = 2"
                         : "SELECT 1 WHERE to_regclass('ferry_meta.schema_objects') IS NOT NULL AND "
                           "to_regclass('ferry_meta.verify_chunks') IS NOT NULL");
  return r.ok() && !r->rows.empty();
}

}  // namespace

std::string MigrationKey(const ir::Migration& m, const ir::Endpoint& source) {
  // The schemas it writes, as the plan names them: two plans that move the same source's
  // data to different places are different migrations, even when both call theirs `m`.
  std::vector<std::string> targets;
  for (const auto& r : m.objects) {
    if (!r.exclude) targets.push_back(r.target.empty() ? r.source : r.target);
  }
  std::sort(targets.begin(), targets.end());
  return fmt::format("{} from {}://{}:{}/{} into {}", m.name, ir::Name(source.engine),
                     source.host.empty() ? source.instance : source.host,
                     source.port != 0 ? source.port : ir::DefaultPort(source.engine), source.database,
                     fmt::join(targets, ","));
}

StatusOr<std::set<std::string>> ReadCreatedObjects(Connection& dst, const std::string& migration,
                                                   std::set<std::string>* done) {
  std::set<std::string> out;
  auto r = dst.Query(fmt::format("SELECT object, state FROM {} WHERE migration = {}", Table(dst.engine()),
                                 QuoteLiteral(dst.engine(), migration)));
  if (!r.ok()) {
    if (r.status().code() == Code::kNotFound) return out;  // no ferry_meta yet: nothing is ours
    Status st = r.status();
    return st.Prefix("reading ferry_meta in the destination");
  }
  for (const auto& row : r->rows) {
    out.insert(row[0].value_or(""));
    if (done != nullptr && row[1].value_or("") == "done") done->insert(row[0].value_or(""));
  }
  return out;
}

Status EnsureMeta(Connection& dst) {
  // PostgreSQL checks the privilege to create before IF NOT EXISTS: a ferry_meta a DBA made
  // beforehand must not need CREATE on the database.
  if (Exists(dst)) return Status::Ok();
  ir::Engine e = dst.engine();
  bool my = ir::IsMysqlFamily(e);
  std::string schema = QuoteIdent(e, kMetaSchema);
  std::string ts = my ? "timestamp(6)" : "timestamptz";
  std::string now = my ? "CURRENT_TIMESTAMP(6)" : "now()";
  std::string tail = my ? " ENGINE=InnoDB" : "";
  std::vector<std::string> ddl = {
      my ? "CREATE DATABASE IF NOT EXISTS " + schema + " DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
         : "CREATE SCHEMA IF NOT EXISTS " + schema,
      "CREATE TABLE IF NOT EXISTS " + QuoteName(e, kMetaSchema, "runs") +
          " (run_key char(16) NOT NULL PRIMARY KEY, migration text NOT NULL, state varchar(16) NOT NULL, stage "
          "varchar(32) NOT NULL, error text, started_at " + ts + " NOT NULL DEFAULT " + now + ", updated_at " + ts +
          " NOT NULL DEFAULT " + now + ", lease_owner text, lease_host text, lease_pid bigint, lease_expires " + ts +
          " NULL)" + tail,
      "CREATE TABLE IF NOT EXISTS " + QuoteName(e, kMetaSchema, "chunks") +
          " (chunk_key char(16) NOT NULL PRIMARY KEY, migration text NOT NULL, src_table text NOT NULL, chunk_no int "
          "NOT NULL, lo text NOT NULL, hi text NOT NULL, state varchar(16) NOT NULL, rows_copied bigint NOT NULL "
          "DEFAULT 0, bytes_copied bigint NOT NULL DEFAULT 0, updated_at " + ts + " NOT NULL DEFAULT " + now + ")" + tail,
      "CREATE TABLE IF NOT EXISTS " + QuoteName(e, kMetaSchema, "verify_runs") +
          " (run_key char(16) NOT NULL PRIMARY KEY, migration text NOT NULL, mode varchar(16) NOT NULL, state "
          "varchar(16) NOT NULL, started_at " + ts + " NOT NULL DEFAULT " + now + ", updated_at " + ts +
          " NOT NULL DEFAULT " + now + ")" + tail,
      "CREATE TABLE IF NOT EXISTS " + QuoteName(e, kMetaSchema, "verify_chunks") +
          " (chunk_key char(16) NOT NULL PRIMARY KEY, migration text NOT NULL, src_table text NOT NULL, chunk_no int "
          "NOT NULL, lo text NOT NULL, hi text NOT NULL, state varchar(16) NOT NULL, src_rows bigint NOT NULL DEFAULT "
          "0, dst_rows bigint NOT NULL DEFAULT 0, result " + std::string(my ? "longtext" : "text") + ", updated_at " +
          ts + " NOT NULL DEFAULT " + now + ")" + tail,
      // These two tables last: Exists() looks for them, so a half-made ferry_meta is finished.
      "CREATE TABLE IF NOT EXISTS " + Table(e) +
          " (object_key char(16) NOT NULL PRIMARY KEY, migration text NOT NULL, object text NOT NULL, state "
          "varchar(16) NOT NULL, updated_at " + ts + " NOT NULL DEFAULT " + now + ")" + tail,
  };
  for (const auto& sql : ddl) {
    Status st = dst.Execute(sql);
    if (!st.ok()) return st.Prefix("creating ferry_meta in the destination (the precheck's privileges item lists what it needs)");
  }
  return Status::Ok();
}

Status RecordObjects(Connection& dst, const std::string& migration, const std::vector<std::string>& objects,
                     ObjectState state) {
  if (objects.empty()) return Status::Ok();
  ir::Engine e = dst.engine();
  std::string s = state == ObjectState::kDone ? "done" : "creating";
  std::string values;
  for (const auto& object : objects) {
    if (!values.empty()) values += ", ";
    values += fmt::format("({}, {}, {}, {})", QuoteLiteral(e, Key(migration, object)), QuoteLiteral(e, migration),
                          QuoteLiteral(e, object), QuoteLiteral(e, s));
  }
  std::string sql = ir::IsMysqlFamily(e)
                        ? fmt::format("INSERT INTO {} (object_key, migration, object, state) VALUES {} ON DUPLICATE "
                                      "KEY UPDATE state = VALUES(state), updated_at = CURRENT_TIMESTAMP(6)",
                                      Table(e), values)
                        : fmt::format("INSERT INTO {} (object_key, migration, object, state) VALUES {} ON CONFLICT "
                                      "(object_key) DO UPDATE SET state = EXCLUDED.state, updated_at = now()",
                                      Table(e), values);
  Status st = dst.Execute(sql);
  if (!st.ok()) return st.Prefix("recording the schema stage's objects in ferry_meta");
  return Status::Ok();
}

namespace {

std::string Now(ir::Engine e) { return ir::IsMysqlFamily(e) ? "CURRENT_TIMESTAMP(6)" : "now()"; }
std::string Later(ir::Engine e, int seconds) {
  return ir::IsMysqlFamily(e) ? fmt::format("CURRENT_TIMESTAMP(6) + INTERVAL {} SECOND", seconds)
                              : fmt::format("now() + interval '{} seconds'", seconds);
}
std::string ChunkKey(const std::string& migration, const std::string& table, int no) {
  return Key(migration, table + "#" + std::to_string(no));
}
// This machine as the lease knows it: the host name, the boot and the PID namespace, so that
// "same host, and its pid is gone" is never concluded across containers sharing a host name.
std::string Host() {
  char buf[256] = {0};
  std::string host = gethostname(buf, sizeof buf - 1) == 0 ? buf : "?";
  auto first_line = [](const char* path) {
    std::ifstream in(path);
    std::string line;
    std::getline(in, line);
    return line;
  };
  std::string boot = first_line("/proc/sys/kernel/random/boot_id");
  char ns[128] = {0};
  ssize_t n = readlink("/proc/self/ns/pid", ns, sizeof ns - 1);
  return host + " " + boot.substr(0, 8) + " " + std::string(ns, n > 0 ? static_cast<size_t>(n) : 0);
}
std::string HostName() {
  char buf[256] = {0};
  return gethostname(buf, sizeof buf - 1) == 0 ? buf : "?";
}
int64_t ToInt(const Value& v) { return v ? std::stoll(*v) : 0; }

}  // namespace

StatusOr<std::vector<ChunkRecord>> ReadChunks(Connection& dst, const std::string& migration) {
  std::vector<ChunkRecord> out;
  ir::Engine e = dst.engine();
  auto r = dst.Query(fmt::format(
      "SELECT src_table, chunk_no, lo, hi, state, rows_copied, bytes_copied FROM {} WHERE migration = {} ORDER BY "
      "src_table, chunk_no",
      QuoteName(e, kMetaSchema, "chunks"), QuoteLiteral(e, migration)));
  if (!r.ok()) {
    if (r.status().code() == Code::kNotFound) return out;
    Status st = r.status();
    return st.Prefix("reading the load's chunks from ferry_meta");
  }
  for (const auto& row : r->rows) {
    ChunkRecord c;
    c.table = row[0].value_or("");
    c.no = static_cast<int>(ToInt(row[1]));
    c.lo = row[2].value_or("");
    c.hi = row[3].value_or("");
    c.done = row[4] == "done";
    c.rows = ToInt(row[5]);
    c.bytes = ToInt(row[6]);
    out.push_back(std::move(c));
  }
  return out;
}

namespace {

// Inserts planned chunks, all pending, in one transaction (the load's and verify's tables).
Status InsertPendingChunks(Connection& dst, const std::string& table, const std::vector<ChunkRecord>& chunks,
                           const std::function<std::string(const ChunkRecord&)>& key, const std::string& migration,
                           const char* what) {
  ir::Engine e = dst.engine();
  FERRY_RETURN_IF_ERROR(dst.Begin());
  for (size_t first = 0; first < chunks.size(); first += 500) {
    std::string values;
    for (size_t i = first; i < std::min(chunks.size(), first + 500); ++i) {
      const ChunkRecord& c = chunks[i];
      if (!values.empty()) values += ", ";
      values += fmt::format("({}, {}, {}, {}, {}, {}, 'pending')", QuoteLiteral(e, key(c)), QuoteLiteral(e, migration),
                            QuoteLiteral(e, c.table), c.no, QuoteLiteral(e, c.lo), QuoteLiteral(e, c.hi));
    }
    Status st = dst.Execute(fmt::format("INSERT INTO {} (chunk_key, migration, src_table, chunk_no, lo, hi, state) VALUES {}",
                                        QuoteName(e, kMetaSchema, table), values));
    if (!st.ok()) {
      (void)dst.Rollback();
      return st.Prefix(what);
    }
  }
  return dst.Commit();
}

}  // namespace

Status PlanChunks(Connection& dst, const std::string& migration, const std::vector<ChunkRecord>& chunks) {
  return InsertPendingChunks(
      dst, "chunks", chunks, [&](const ChunkRecord& c) { return ChunkKey(migration, c.table, c.no); }, migration,
      "planning the load's chunks in ferry_meta");
}

Status ForgetChunks(Connection& dst, const std::string& migration, const std::vector<std::string>& tables) {
  if (tables.empty()) return Status::Ok();
  ir::Engine e = dst.engine();
  std::vector<std::string> names;
  for (const auto& t : tables) names.push_back(QuoteLiteral(e, t));
  Status st = dst.Execute(fmt::format("DELETE FROM {} WHERE migration = {} AND src_table IN ({})",
                                      QuoteName(e, kMetaSchema, "chunks"), QuoteLiteral(e, migration),
                                      fmt::join(names, ", ")));
  return st.ok() ? st : st.Prefix("forgetting the chunks of tables created anew in ferry_meta");
}

StatusOr<bool> ChunkDone(Connection& dst, const std::string& migration, const ChunkRecord& c) {
  ir::Engine e = dst.engine();
  auto r = dst.Query(fmt::format("SELECT state FROM {} WHERE chunk_key = {}", QuoteName(e, kMetaSchema, "chunks"),
                                 QuoteLiteral(e, ChunkKey(migration, c.table, c.no))));
  if (!r.ok()) return r.status();
  return !r->rows.empty() && r->rows[0][0] == "done";
}

std::string ChunkDoneSql(ir::Engine e, const std::string& migration, const ChunkRecord& c) {
  return fmt::format(
      "UPDATE {} SET state = 'done', rows_copied = {}, bytes_copied = {}, updated_at = {} WHERE chunk_key = {} AND "
      "state <> 'done'",
      QuoteName(e, kMetaSchema, "chunks"), c.rows, c.bytes, Now(e), QuoteLiteral(e, ChunkKey(migration, c.table, c.no)));
}

StatusOr<bool> AcquireLease(Connection& dst, const std::string& migration, int seconds, LeaseHolder* holder) {
  ir::Engine e = dst.engine();
  std::string runs = QuoteName(e, kMetaSchema, "runs");
  std::string key = QuoteLiteral(e, Key(migration, "run"));
  std::string me = Host();
  int64_t pid = getpid();
  FERRY_RETURN_IF_ERROR(dst.Begin());
  auto cur = dst.Query(fmt::format(
      "SELECT lease_owner, lease_host, lease_pid, CASE WHEN lease_expires > {} THEN 1 ELSE 0 END FROM {} WHERE run_key = "
      "{} FOR UPDATE",
      Now(e), runs, key));
  if (!cur.ok()) {
    (void)dst.Rollback();
    Status st = cur.status();
    return st.Prefix("taking the lease in ferry_meta");
  }
  if (!cur->rows.empty()) {
    const Row& row = cur->rows[0];
    bool live = row[3] == "1" && row[0].has_value();
    // A holder on this host whose process is gone (killed) holds nothing.
    if (live && row[1] == me && row[2] && kill(static_cast<pid_t>(std::stoll(*row[2])), 0) != 0 && errno == ESRCH) {
      live = false;
    }
    if (live && !(row[1] == me && row[2] == std::to_string(pid))) {
      holder->owner = row[0].value_or("?");
      (void)dst.Rollback();
      return false;
    }
  }
  std::string owner = fmt::format("{} pid {}", HostName(), pid);
  std::string sql =
      cur->rows.empty()
          ? fmt::format("INSERT INTO {} (run_key, migration, state, stage, lease_owner, lease_host, lease_pid, "
                        "lease_expires) VALUES ({}, {}, 'running', 'start', {}, {}, {}, {})",
                        runs, key, QuoteLiteral(e, migration), QuoteLiteral(e, owner), QuoteLiteral(e, me), pid,
                        Later(e, seconds))
          : fmt::format("UPDATE {} SET state = 'running', error = NULL, started_at = {}, updated_at = {}, lease_owner = "
                        "{}, lease_host = {}, lease_pid = {}, lease_expires = {} WHERE run_key = {}",
                        runs, Now(e), Now(e), QuoteLiteral(e, owner), QuoteLiteral(e, me), pid, Later(e, seconds), key);
  Status st = dst.Execute(sql);
  if (!st.ok()) {
    (void)dst.Rollback();
    return st.Prefix("taking the lease in ferry_meta");
  }
  FERRY_RETURN_IF_ERROR(dst.Commit());
  return true;
}

// Only the holder renews or releases: a run whose lease lapsed and was taken over must
// neither extend nor clear its successor's.
std::string Mine(ir::Engine e) {
  return fmt::format("lease_host = {} AND lease_pid = {}", QuoteLiteral(e, Host()), static_cast<int64_t>(getpid()));
}

StatusOr<bool> RenewLease(Connection& dst, const std::string& migration, int seconds) {
  ir::Engine e = dst.engine();
  auto r = dst.Query(fmt::format("UPDATE {} SET lease_expires = {}, updated_at = {} WHERE run_key = {} AND {} AND "
                                 "lease_expires > {}",
                                 QuoteName(e, kMetaSchema, "runs"), Later(e, seconds), Now(e),
                                 QuoteLiteral(e, Key(migration, "run")), Mine(e), Now(e)));
  if (!r.ok()) return r.status();
  return r->affected == 1;
}

Status ReleaseLease(Connection& dst, const std::string& migration) {
  ir::Engine e = dst.engine();
  return dst.Execute(fmt::format("UPDATE {} SET lease_expires = NULL, lease_owner = NULL, lease_pid = NULL WHERE "
                                 "run_key = {} AND {}",
                                 QuoteName(e, kMetaSchema, "runs"), QuoteLiteral(e, Key(migration, "run")), Mine(e)));
}

Status RecordRun(Connection& dst, const std::string& migration, const std::string& state, const std::string& stage,
                 const std::string& error) {
  ir::Engine e = dst.engine();
  return dst.Execute(fmt::format("UPDATE {} SET state = {}, stage = {}, error = {}, updated_at = {} WHERE run_key = {}",
                                 QuoteName(e, kMetaSchema, "runs"), QuoteLiteral(e, state), QuoteLiteral(e, stage),
                                 error.empty() ? std::string("NULL") : QuoteLiteral(e, error), Now(e),
                                 QuoteLiteral(e, Key(migration, "run"))));
}

StatusOr<std::optional<RunRecord>> ReadRun(Connection& dst, const std::string& migration) {
  ir::Engine e = dst.engine();
  auto r = dst.Query(fmt::format(
      "SELECT state, stage, error, started_at, updated_at, lease_owner, lease_expires, CASE WHEN lease_expires > {} THEN "
      "1 ELSE 0 END FROM {} WHERE run_key = {}",
      Now(e), QuoteName(e, kMetaSchema, "runs"), QuoteLiteral(e, Key(migration, "run"))));
  if (!r.ok()) {
    if (r.status().code() == Code::kNotFound) return std::optional<RunRecord>();
    return r.status();
  }
  if (r->rows.empty()) return std::optional<RunRecord>();
  const Row& row = r->rows[0];
  RunRecord rec{row[0].value_or(""), row[1].value_or(""), row[2].value_or(""), row[3].value_or(""),
                row[4].value_or(""), row[5].value_or(""), row[6].value_or(""), row[7] == "1"};
  return std::optional<RunRecord>(rec);
}

// ---- verify -------------------------------------------------------------------------------

namespace {

std::string VerifyChunkKey(const std::string& migration, const std::string& table, int no) {
  return Key(migration, "verify " + table + "#" + std::to_string(no));
}

}  // namespace

StatusOr<std::optional<VerifyRun>> ReadVerifyRun(Connection& dst, const std::string& migration) {
  ir::Engine e = dst.engine();
  auto r = dst.Query(fmt::format("SELECT mode, state FROM {} WHERE run_key = {}", QuoteName(e, kMetaSchema, "verify_runs"),
                                 QuoteLiteral(e, Key(migration, "verify"))));
  if (!r.ok()) {
    if (r.status().code() == Code::kNotFound) return std::optional<VerifyRun>();
    return r.status();
  }
  if (r->rows.empty()) return std::optional<VerifyRun>();
  return std::optional<VerifyRun>(VerifyRun{r->rows[0][0].value_or(""), r->rows[0][1].value_or("")});
}

Status StartVerifyRun(Connection& dst, const std::string& migration, const std::string& mode) {
  ir::Engine e = dst.engine();
  std::string key = QuoteLiteral(e, Key(migration, "verify"));
  FERRY_RETURN_IF_ERROR(dst.Begin());
  std::vector<std::string> sql = {
      fmt::format("DELETE FROM {} WHERE migration = {}", QuoteName(e, kMetaSchema, "verify_chunks"),
                  QuoteLiteral(e, migration)),
      fmt::format("DELETE FROM {} WHERE run_key = {}", QuoteName(e, kMetaSchema, "verify_runs"), key),
      fmt::format("INSERT INTO {} (run_key, migration, mode, state) VALUES ({}, {}, {}, 'running')",
                  QuoteName(e, kMetaSchema, "verify_runs"), key, QuoteLiteral(e, migration), QuoteLiteral(e, mode)),
  };
  for (const auto& s : sql) {
    Status st = dst.Execute(s);
    if (!st.ok()) {
      (void)dst.Rollback();
      return st.Prefix("starting the verify run in ferry_meta");
    }
  }
  return dst.Commit();
}

Status FinishVerifyRun(Connection& dst, const std::string& migration, const std::string& state) {
  ir::Engine e = dst.engine();
  return dst.Execute(fmt::format("UPDATE {} SET state = {}, updated_at = {} WHERE run_key = {}",
                                 QuoteName(e, kMetaSchema, "verify_runs"), QuoteLiteral(e, state), Now(e),
                                 QuoteLiteral(e, Key(migration, "verify"))));
}

StatusOr<std::vector<VerifyChunk>> ReadVerifyChunks(Connection& dst, const std::string& migration) {
  ir::Engine e = dst.engine();
  auto r = dst.Query(fmt::format("SELECT src_table, chunk_no, lo, hi, state, src_rows, dst_rows, result FROM {} WHERE "
                                 "migration = {} ORDER BY src_table, chunk_no",
                                 QuoteName(e, kMetaSchema, "verify_chunks"), QuoteLiteral(e, migration)));
  if (!r.ok()) return r.status();
  std::vector<VerifyChunk> out;
  for (const auto& row : r->rows) {
    VerifyChunk c;
    c.range.table = row[0].value_or("");
    c.range.no = static_cast<int>(ToInt(row[1]));
    c.range.lo = row[2].value_or("");
    c.range.hi = row[3].value_or("");
    c.state = row[4].value_or("");
    c.src_rows = ToInt(row[5]);
    c.dst_rows = ToInt(row[6]);
    c.result = row[7].value_or("");
    out.push_back(std::move(c));
  }
  return out;
}

Status PlanVerifyChunks(Connection& dst, const std::string& migration, const std::vector<ChunkRecord>& chunks) {
  return InsertPendingChunks(
      dst, "verify_chunks", chunks, [&](const ChunkRecord& c) { return VerifyChunkKey(migration, c.table, c.no); },
      migration, "planning the verify chunks in ferry_meta");
}

Status RecordVerifyChunk(Connection& dst, const std::string& migration, const VerifyChunk& c) {
  ir::Engine e = dst.engine();
  return dst.Execute(fmt::format(
      "UPDATE {} SET state = {}, src_rows = {}, dst_rows = {}, result = {}, updated_at = {} WHERE chunk_key = {}",
      QuoteName(e, kMetaSchema, "verify_chunks"), QuoteLiteral(e, c.state), c.src_rows, c.dst_rows,
      QuoteLiteral(e, c.result), Now(e), QuoteLiteral(e, VerifyChunkKey(migration, c.range.table, c.range.no))));
}

}  // namespace ferry::runtime
