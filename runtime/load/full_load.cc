#include "runtime/load/full_load.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

#include "runtime/load/chunks.h"
#include "runtime/load/throttle.h"
#include "runtime/load/values.h"
#include "runtime/meta.h"
#include "runtime/sql.h"

namespace ferry::runtime {

namespace {

using Clock = std::chrono::steady_clock;

// What a worker needs to copy any chunk of one table.
struct TableJob {
  const TableMapping* mapping = nullptr;
  std::string name;                 // schema.table (source)
  std::string select;               // SELECT … FROM … WHERE
  std::vector<ValuePlan> values;    // per written column
  std::vector<size_t> written;      // indexes into mapping->columns that are written
  std::string insert_head;          // MySQL: INSERT INTO t (cols) VALUES
  std::string insert_tail;          // MySQL: ON DUPLICATE KEY UPDATE … (conflicts = ignore)
  std::string copy;                 // PostgreSQL: COPY t (cols) FROM STDIN
  std::string stage_table;          // PostgreSQL, conflicts = ignore: the temporary table
  std::string stage_setup, stage_merge;
  std::string copy_out;             // PostgreSQL → PostgreSQL with nothing to convert: COPY (…) TO STDOUT
  std::atomic<int64_t> rows{0}, bytes{0};
  std::atomic<int> chunks_done{0};
  int chunks = 0;
};

struct Work {
  TableJob* job;
  ChunkRecord chunk;
};

class Loader {
 public:
  Loader(MigrationContext& ctx, const LoadOptions& opt)
      : ctx_(ctx),
        m_(*ctx.migration),
        opt_(opt),
        qps_(m_.throttle_full ? m_.throttle_full->source_qps : std::nullopt),
        rows_per_s_(m_.throttle_full ? m_.throttle_full->rows_per_s : std::nullopt),
        bytes_per_s_(m_.throttle_full && m_.throttle_full->mb_per_s
                         ? std::optional<double>(*m_.throttle_full->mb_per_s * 1024 * 1024)
                         : std::nullopt) {}

  Status Run() {
    auto dst_opts = OptionsFor(*ctx_.destination.endpoint);
    if (!dst_opts.ok()) return dst_opts.status();
    auto src_opts = OptionsFor(*ctx_.source.endpoint);
    if (!src_opts.ok()) return src_opts.status();
    dst_opts_ = *dst_opts;
    src_opts_ = *src_opts;
    auto meta = Connect(dst_opts_);
    if (!meta.ok()) return meta.status();
    FERRY_RETURN_IF_ERROR(EnsureMeta(**meta));
    FERRY_RETURN_IF_ERROR(Plan(**meta));
    return Copy();
  }

 private:
  // ---- planning ----------------------------------------------------------------------------

  Status Plan(Connection& meta) {
    auto existing = ReadChunks(meta, ctx_.migration_key);
    if (!existing.ok()) return existing.status();
    std::map<std::string, std::vector<ChunkRecord>> by_table;
    for (auto& c : *existing) by_table[c.table].push_back(c);
    std::unique_ptr<Connection> src;
    ir::ZeroDates zero_dates = ctx_.plan->EffectiveZeroDates(m_.typemap);
    for (const auto& t : ctx_.selection.tables) {
      auto job = std::make_unique<TableJob>();
      job->mapping = &t;
      job->name = t.source->schema + "." + t.source->name;
      auto& chunks = by_table[job->name];
      if (chunks.empty()) {
        if (!src) {
          auto c = Connect(src_opts_);
          if (!c.ok()) return c.status();
          src = std::move(c).value();
          FERRY_RETURN_IF_ERROR(src->SetReadOnly());
        }
        auto planned = PlanTableChunks(*src, *t.source, ChunkRows(*t.source));
        if (!planned.ok()) return Named(planned.status(), t, nullptr);
        FERRY_RETURN_IF_ERROR(PlanChunks(meta, ctx_.migration_key, *planned));
        chunks = std::move(planned).value();
      }
      Prepare(*job, zero_dates, jobs_.size());
      job->chunks = static_cast<int>(chunks.size());
      for (const auto& c : chunks) {
        if (c.done) {
          job->rows += c.rows;
          job->bytes += c.bytes;
          ++job->chunks_done;
        } else {
          work_.push_back({job.get(), c});
        }
      }
      jobs_.push_back(std::move(job));
    }
    return Status::Ok();
  }

  void Prepare(TableJob& job, ir::ZeroDates zero_dates, size_t index) {
    const TableMapping& t = *job.mapping;
    ir::Engine from = m_.from_engine, to = m_.to_engine;
    std::vector<std::string> selects, dst_cols;
    for (size_t i = 0; i < t.columns.size(); ++i) {
      const ColumnMapping& c = t.columns[i];
      // A column the destination computes itself is not written.
      if (!c.source->generated.empty() && !c.generated_as_data) continue;
      job.written.push_back(i);
      job.values.push_back(PlanValue(from, to, c, zero_dates));
      selects.push_back(job.values.back().select);
      dst_cols.push_back(QuoteIdent(to, c.name));
    }
    std::string cols = fmt::format("{}", fmt::join(dst_cols, ", "));
    std::string table = QuoteName(to, t.dst_schema, t.dst_table);
    job.select = fmt::format("SELECT {} FROM {} WHERE ", fmt::join(selects, ", "),
                             QuoteName(from, t.source->schema, t.source->name));
    bool ignore = m_.conflicts == ir::Conflicts::kIgnore;
    bool always_identity = false;
    for (const auto& c : t.columns) always_identity |= c.source->identity == "always" && to == ir::Engine::kPostgres;
    // Not with a `where` filter: COPY runs through the simple query protocol, which would take a
    // second statement; the plan's filters go only through the one-statement path.
    bool passthrough = from == ir::Engine::kPostgres && to == ir::Engine::kPostgres && t.where.empty();
    for (const auto& v : job.values) passthrough &= v.kind == ValuePlan::Kind::kAsIs;
    if (passthrough) {
      // COPY text out is COPY text in: the rows go through untouched (the prefix; the chunk's
      // predicate closes the SELECT).
      job.copy_out = "COPY (" + job.select;
    }
    if (to == ir::Engine::kPostgres) {
      job.copy = fmt::format("COPY {} ({}) FROM STDIN", table, cols);
      if (ignore || always_identity) {
        // COPY cannot skip a row whose key exists, nor write an ALWAYS identity: through a
        // temporary table and INSERT … SELECT, which can.
        job.stage_table = QuoteIdent(to, fmt::format("ferry_stage_{}", index));  // one per table, per session
        job.stage_setup = fmt::format("CREATE TEMP TABLE IF NOT EXISTS {} AS SELECT {} FROM {} WITH NO DATA",
                                      job.stage_table, cols, table);
        job.copy = fmt::format("COPY {} ({}) FROM STDIN", job.stage_table, cols);
        job.stage_merge = fmt::format("INSERT INTO {} ({}) {}SELECT {} FROM {}{}", table, cols,
                                      always_identity ? "OVERRIDING SYSTEM VALUE " : "", cols, job.stage_table,
                                      ignore ? " ON CONFLICT DO NOTHING" : "");
      }
    } else {
      job.insert_head = fmt::format("INSERT INTO {} ({}) VALUES ", table, cols);
      if (ignore) {
        // Keeps the existing row (a no-op update), unlike INSERT IGNORE, which would also
        // turn data errors into warnings.
        const Index* key = t.source->ChunkKey();
        std::string col = key != nullptr && t.FindSource(key->columns[0]) != nullptr
                              ? QuoteIdent(to, t.FindSource(key->columns[0])->name)
                              : dst_cols.front();
        job.insert_tail = fmt::format(" ON DUPLICATE KEY UPDATE {0} = {0}", col);
      }
    }
  }

  // ---- copying -----------------------------------------------------------------------------

  Status Copy() {
    start_ = Clock::now();
    int workers = std::max(1, std::min<int>(m_.workers, static_cast<int>(work_.size())));
    std::vector<std::thread> threads;
    for (int i = 0; i < workers && !work_.empty(); ++i) threads.emplace_back([this] { Worker(); });
    std::thread progress([this] { Progress(); });
    for (auto& t : threads) t.join();
    {
      std::lock_guard<std::mutex> lock(mu_);
      finished_ = true;
    }
    cv_.notify_all();
    progress.join();
    Report(true);
    if (!error_.ok()) return error_;
    if (stopped_) return Status(Code::kCancelled, "stopped at a chunk boundary; run ferry apply again to resume");
    return Status::Ok();
  }

  bool Stopping() {
    std::lock_guard<std::mutex> lock(mu_);
    if (opt_.stop != nullptr && opt_.stop->load()) stopped_ = true;
    if (opt_.lease_lost != nullptr && opt_.lease_lost->load() && error_.ok()) {
      error_ = Status(Code::kFailedPrecondition,
                      "lost the lease in ferry_meta (the destination was out of reach too long, or another apply "
                      "took the migration over); stopped at a chunk boundary, run ferry apply again to resume");
    }
    return stopped_ || !error_.ok();
  }

  void Fail(Status st) {
    std::lock_guard<std::mutex> lock(mu_);
    if (error_.ok()) error_ = std::move(st);
  }

  void Worker() {
    std::unique_ptr<Connection> src, dst;
    while (!Stopping()) {
      size_t i = next_.fetch_add(1);
      if (i >= work_.size()) return;
      Work& w = work_[i];
      Status st = CopyWithRetry(w, src, dst);
      if (!st.ok()) {
        Fail(st);
        return;
      }
    }
  }

  Status Reconnect(std::unique_ptr<Connection>& src, std::unique_ptr<Connection>& dst) {
    if (!src) {
      auto c = Connect(src_opts_);
      if (!c.ok()) return c.status();
      src = std::move(c).value();
      FERRY_RETURN_IF_ERROR(src->SetReadOnly());
    }
    if (!dst) {
      auto c = Connect(dst_opts_);
      if (!c.ok()) return c.status();
      dst = std::move(c).value();
    }
    return Status::Ok();
  }

  Status CopyWithRetry(Work& w, std::unique_ptr<Connection>& src, std::unique_ptr<Connection>& dst) {
    auto began = Clock::now();
    int attempt = 0;
    bool lost = false;
    while (true) {
      Status st = Reconnect(src, dst);
      if (st.ok() && lost) {
        // The connection died around COMMIT: the chunk may have committed after all. Its
        // checkpoint committed with its rows, so the checkpoint says which.
        auto done = ChunkDone(*dst, ctx_.migration_key, w.chunk);
        if (!done.ok()) st = done.status();
        else if (*done) return Status::Ok();
      }
      if (st.ok()) st = CopyChunk(w, *src, *dst);
      if (st.ok()) return st;
      bool connection = st.code() == Code::kUnavailable;
      bool transient = connection || st.code() == Code::kAborted;
      int64_t window = connection ? m_.retry.connection_ms : m_.retry.other_ms;
      auto spent = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - began).count();
      if (!transient || spent >= window || Stopping()) return Named(st, *w.job->mapping, &w.chunk);
      // A lost connection is not reused; the chunk's transaction died with it.
      if (connection) {
        src.reset();
        dst.reset();
        lost = true;
      }
      int64_t backoff = std::min<int64_t>(30000, 500LL << std::min(attempt++, 6));
      std::this_thread::sleep_for(std::chrono::milliseconds(std::min<int64_t>(backoff, window - spent)));
    }
  }

  Status CopyChunk(Work& w, Connection& src, Connection& dst) {
    TableJob& job = *w.job;
    const TableMapping& t = *job.mapping;
    std::string pred = ChunkPredicate(src.engine(), *t.source, w.chunk);
    if (!t.where.empty()) pred += " AND (" + t.where + ")";  // the plan's filter runs on the source only
    if (!job.copy_out.empty()) return CopyPassthrough(w, src, dst, job.copy_out + pred + ") TO STDOUT");
    std::string sql = job.select + pred;
    qps_.Take(1);
    auto rows = src.Query(sql);
    if (!rows.ok()) return rows.status();
    rows_per_s_.Take(static_cast<double>(rows->rows.size()));
    const bool pg = dst.engine() == ir::Engine::kPostgres;
    ChunkRecord done = w.chunk;
    done.rows = static_cast<int64_t>(rows->rows.size());
    FERRY_RETURN_IF_ERROR(dst.Begin());
    auto fail = [&](Status st) {
      (void)dst.Rollback();
      return st;
    };
    std::string buf;
    int64_t bytes = 0;
    auto flush = [&]() -> Status {
      if (buf.empty()) return Status::Ok();
      bytes += static_cast<int64_t>(buf.size());
      bytes_per_s_.Take(static_cast<double>(buf.size()));
      Status st = pg ? dst.CopyIn(job.copy, buf) : dst.Execute(job.insert_head + buf + job.insert_tail);
      buf.clear();
      return st;
    };
    if (pg && !job.stage_table.empty()) {
      // Every time: a rolled-back chunk takes a temporary table created in its transaction along.
      Status st = dst.Execute(job.stage_setup);
      if (!st.ok()) return fail(st);
    }
    for (size_t r = 0; r < rows->rows.size(); ++r) {
      const Row& row = rows->rows[r];
      if (pg) {
        for (size_t i = 0; i < job.values.size(); ++i) {
          if (i) buf += '\t';
          Status st = AppendValue(job.values[i], row[i], ir::Engine::kPostgres, &buf);
          if (!st.ok()) return fail(ValueError(st, job, row, i));
        }
        buf += '\n';
      } else {
        buf += buf.empty() ? "(" : ",(";
        for (size_t i = 0; i < job.values.size(); ++i) {
          if (i) buf += ',';
          Status st = AppendValue(job.values[i], row[i], dst.engine(), &buf);
          if (!st.ok()) return fail(ValueError(st, job, row, i));
        }
        buf += ')';
      }
      if (buf.size() >= (4u << 20)) {
        Status st = flush();
        if (!st.ok()) return fail(st);
      }
    }
    Status st = flush();
    if (!st.ok()) return fail(st);
    if (pg && !job.stage_table.empty()) {
      st = dst.Execute(job.stage_merge);
      if (st.ok()) st = dst.Execute("TRUNCATE " + job.stage_table);
      if (!st.ok()) return fail(st);
    }
    done.bytes = bytes;
    auto marked = MarkDone(dst, done);
    if (!marked.ok()) return fail(marked.status());
    if (!*marked) return fail(Status::Ok());  // an earlier attempt committed it: ours goes
    st = dst.Commit();
    if (!st.ok()) return fail(st);
    job.rows += done.rows;
    job.bytes += bytes;
    ++job.chunks_done;
    return Status::Ok();
  }

  // PostgreSQL to PostgreSQL, types as they are: the source's COPY output is the
  // destination's COPY input.
  Status CopyPassthrough(Work& w, Connection& src, Connection& dst,
                         const std::string& copy_out) {
    TableJob& job = *w.job;
    qps_.Take(1);
    auto data = src.CopyOut(copy_out);
    if (!data.ok()) return data.status();
    ChunkRecord done = w.chunk;
    done.rows = static_cast<int64_t>(std::count(data->begin(), data->end(), '\n'));  // escaped inside values
    done.bytes = static_cast<int64_t>(data->size());
    rows_per_s_.Take(static_cast<double>(done.rows));
    bytes_per_s_.Take(static_cast<double>(done.bytes));
    FERRY_RETURN_IF_ERROR(dst.Begin());
    auto fail = [&](Status st) {
      (void)dst.Rollback();
      return st;
    };
    if (!job.stage_table.empty()) {
      Status st = dst.Execute(job.stage_setup);
      if (!st.ok()) return fail(st);
    }
    Status st = data->empty() ? Status::Ok() : dst.CopyIn(job.copy, *data);
    if (st.ok() && !job.stage_table.empty()) {
      st = dst.Execute(job.stage_merge);
      if (st.ok()) st = dst.Execute("TRUNCATE " + job.stage_table);
    }
    if (st.ok()) {
      auto marked = MarkDone(dst, done);
      if (!marked.ok()) return fail(marked.status());
      if (!*marked) return fail(Status::Ok());  // an earlier attempt committed it: ours goes
      st = dst.Commit();
    }
    if (!st.ok()) return fail(st);
    job.rows += done.rows;
    job.bytes += done.bytes;
    ++job.chunks_done;
    return Status::Ok();
  }

  // Marks the chunk done in the chunk's transaction. False when it was done already: an
  // attempt whose COMMIT outcome was lost with its connection may still have committed (or
  // commit while we look); the guarded update waits for it and then sees it, so this attempt's
  // rows are rolled back instead of doubled.
  StatusOr<bool> MarkDone(Connection& dst, const ChunkRecord& done) {
    auto r = dst.Query(ChunkDoneSql(dst.engine(), ctx_.migration_key, done));
    if (!r.ok()) return r.status();
    return r->affected == 1;
  }

  // A value that cannot be carried: which column of which row (by its key), and why.
  Status ValueError(const Status& st, const TableJob& job, const Row& row, size_t i) {
    const TableMapping& t = *job.mapping;
    const ColumnMapping& c = t.columns[job.written[i]];
    std::string key;
    if (const Index* k = t.source->ChunkKey()) {
      for (const auto& kc : k->columns) {
        for (size_t j = 0; j < job.written.size(); ++j) {
          if (t.columns[job.written[j]].source->name == kc) {
            key += (key.empty() ? "" : ", ") + kc + " = " + row[j].value_or("NULL");
          }
        }
      }
    }
    return Status(st.code(), fmt::format("column {}{}: {}", c.source->name, key.empty() ? "" : " of the row " + key,
                                         st.message()));
  }

  static Status Named(const Status& st, const TableMapping& t, const ChunkRecord* chunk) {
    return Status(st.code(),
                  fmt::format("load of {}.{} (selected at {}){}: {}", t.source->schema, t.source->name, t.loc,
                              chunk != nullptr ? fmt::format(", chunk {}", chunk->no) : "", st.message()),
                  st.native());
  }

  // ---- progress ------------------------------------------------------------------------------

  void Progress() {
    std::unique_lock<std::mutex> lock(mu_);
    while (!cv_.wait_for(lock, std::chrono::seconds(1), [this] { return finished_; })) {
      lock.unlock();
      Report(false);
      lock.lock();
    }
  }

  void Report(bool final) {
    if (!opt_.on_progress) return;
    std::vector<TableProgress> v;
    for (const auto& j : jobs_) {
      v.push_back({j->name, j->rows.load(), j->bytes.load(), j->mapping->source->rows_estimate, j->chunks_done.load(),
                   j->chunks});
    }
    double secs = std::chrono::duration<double>(Clock::now() - start_).count();
    opt_.on_progress(v, secs, final);
  }

  MigrationContext& ctx_;
  const ir::Migration& m_;
  const LoadOptions& opt_;
  ConnectOptions src_opts_, dst_opts_;
  std::vector<std::unique_ptr<TableJob>> jobs_;
  std::vector<Work> work_;
  std::atomic<size_t> next_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  bool finished_ = false;
  bool stopped_ = false;
  Status error_;
  Clock::time_point start_ = Clock::now();
  TokenBucket qps_, rows_per_s_, bytes_per_s_;
};

}  // namespace

Status RunFullLoad(MigrationContext& ctx, const LoadOptions& options) { return Loader(ctx, options).Run(); }

}  // namespace ferry::runtime
