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
  std::string load_data;            // MySQL: LOAD DATA LOCAL INFILE … (conflicts = error)
  std::string copy;                 // PostgreSQL: COPY t (cols) FROM STDIN
  std::string stage_table;          // PostgreSQL, conflicts = ignore: the temporary table
  std::string stage_setup, stage_merge;
  std::string copy_out;             // PostgreSQL → PostgreSQL with nothing to convert: COPY (…
  std::string copy_out_tail;        // …) TO STDOUT, in binary when every column can be
  bool binary = false;              // PostgreSQL destination: COPY … FROM STDIN (FORMAT binary)
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
        throttle_(m_.throttle_full) {}

  Status Run() {
    auto meta = ConnectTo(ctx_, ctx_.destination);
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
          auto c = ConnectTo(ctx_, ctx_.source);
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
    // The largest tables first: the last table loaded is then a small one, whose index builds
    // are what remains once the rows are in, rather than the largest table's.
    auto size = [](const Work& w) {
      const Table& t = *w.job->mapping->source;
      return std::make_pair(t.bytes_estimate, t.rows_estimate);
    };
    std::stable_sort(work_.begin(), work_.end(), [&](const Work& a, const Work& b) { return size(a) > size(b); });
    return Status::Ok();
  }

  void Prepare(TableJob& job, ir::ZeroDates zero_dates, size_t index) {
    const TableMapping& t = *job.mapping;
    ir::Engine from = m_.from_engine, to = m_.to_engine;
    std::vector<std::string> selects, dst_cols, load_fields, load_sets;
    for (size_t i = 0; i < t.columns.size(); ++i) {
      const ColumnMapping& c = t.columns[i];
      // A column the destination computes itself is not written.
      if (!c.source->generated.empty() && !c.generated_as_data) continue;
      job.written.push_back(i);
      job.values.push_back(PlanValue(from, to, c, zero_dates));
      const ValuePlan& v = job.values.back();
      selects.push_back(v.select);
      dst_cols.push_back(QuoteIdent(to, c.name));
      if (v.load_set.empty()) {
        load_fields.push_back(dst_cols.back());
      } else {
        std::string var = fmt::format("@v{}", load_fields.size());
        load_fields.push_back(var);
        load_sets.push_back(fmt::format("{} = {}", dst_cols.back(), fmt::format(fmt::runtime(v.load_set), var)));
      }
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
      // COPY out is COPY in: the rows go through untouched (the prefix; the chunk's predicate
      // closes the SELECT). Binary where every column allows it: less work for both servers.
      job.binary = true;
      for (size_t i : job.written) job.binary &= PgBinaryCopySafe(t.columns[i]);
      job.copy_out = "COPY (" + job.select;
      job.copy_out_tail = job.binary ? ") TO STDOUT (FORMAT binary)" : ") TO STDOUT";
    } else if (ir::IsMysqlFamily(from) && to == ir::Engine::kPostgres) {
      // From MySQL, written in binary by Ferry where every column has a binary form.
      job.binary = true;
      for (const auto& v : job.values) job.binary &= v.binary != ValuePlan::Binary::kNone;
    }
    const char* copy_format = job.binary ? " (FORMAT binary)" : "";
    if (to == ir::Engine::kPostgres) {
      job.copy = fmt::format("COPY {} ({}) FROM STDIN{}", table, cols, copy_format);
      if (ignore || always_identity) {
        // COPY cannot skip a row whose key exists, nor write an ALWAYS identity: through a
        // temporary table and INSERT … SELECT, which can.
        job.stage_table = QuoteIdent(to, fmt::format("ferry_stage_{}", index));  // one per table, per session
        job.stage_setup = fmt::format("CREATE TEMP TABLE IF NOT EXISTS {} AS SELECT {} FROM {} WITH NO DATA",
                                      job.stage_table, cols, table);
        job.copy = fmt::format("COPY {} ({}) FROM STDIN{}", job.stage_table, cols, copy_format);
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
      } else {
        // The file's name is never opened: the connector serves the rows from memory.
        job.load_data = fmt::format(
            "LOAD DATA LOCAL INFILE 'ferry' INTO TABLE {} CHARACTER SET utf8mb4 "
            R"(FIELDS TERMINATED BY '\t' ESCAPED BY '\\' LINES TERMINATED BY '\n' ({}){}{})",
            table, fmt::join(load_fields, ", "), load_sets.empty() ? "" : " SET ", fmt::join(load_sets, ", "));
      }
    }
  }

  // ---- copying -----------------------------------------------------------------------------

  Status Copy() {
    start_ = Clock::now();
    for (const auto& job : jobs_) {  // loaded by an earlier run
      if (job->chunks_done == job->chunks && opt_.on_table_done) opt_.on_table_done(*job->mapping);
    }
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
      auto c = ConnectTo(ctx_, ctx_.source);
      if (!c.ok()) return c.status();
      src = std::move(c).value();
      FERRY_RETURN_IF_ERROR(src->SetReadOnly());
    }
    if (!dst) {
      auto c = ConnectTo(ctx_, ctx_.destination);
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
        else if (*done) return Committed(*w.job, 0, 0);  // its rows are not known here
      }
      if (st.ok()) st = CopyChunk(w, *src, *dst);
      if (st.ok()) return st;
      auto delay = RetryDelayMs(st, m_.retry, began, &attempt);
      if (!delay || Stopping()) return Named(st, *w.job->mapping, &w.chunk);
      // A lost connection is not reused; the chunk's transaction died with it.
      if (st.code() == Code::kUnavailable) {
        src.reset();
        dst.reset();
        lost = true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(*delay));
    }
  }

  // A chunk's rows, read from the source's cursor and written in the destination's form a
  // piece at a time, so that a chunk never sits whole in memory and the destination writes
  // while the source reads. The throttles are taken piece by piece.
  class RowEncoder final : public ByteSource {
   public:
    RowEncoder(Loader& loader, const TableJob& job, RowCursor& cursor, Format format)
        : loader_(loader), job_(job), rows_(cursor), format_(format),
          piece_(format == Format::kSqlLiteral ? (4u << 20) : (256u << 10)) {}

    StatusOr<bool> Read(std::string* out) override {
      if (ended_) return false;
      const size_t start = out->size();
      const bool tuples = format_ == Format::kSqlLiteral, binary = format_ == Format::kCopyBinary;
      if (binary && !started_) AppendCopyBinaryHeader(out);
      started_ = true;
      int64_t n = 0;
      while (out->size() - start < piece_) {
        auto more = rows_.Next();
        if (!more.ok()) return more.status();
        if (!*more) {
          ended_ = true;
          if (binary) AppendCopyBinaryTrailer(out);
          break;
        }
        if (tuples) out->append(n == 0 ? "(" : ",(");
        if (binary) AppendCopyBinaryRow(job_.values.size(), out);
        for (size_t i = 0; i < job_.values.size(); ++i) {
          if (i && !binary) out->push_back(tuples ? ',' : '\t');
          Status st = AppendValue(job_.values[i], rows_.Get(i), format_, out);
          if (!st.ok()) return loader_.ValueError(st, job_, rows_, i);
        }
        if (!binary) out->push_back(tuples ? ')' : '\n');
        ++n;
      }
      rows += n;
      bytes += static_cast<int64_t>(out->size() - start);
      loader_.throttle_.rows.Take(static_cast<double>(n));
      loader_.throttle_.bytes.Take(static_cast<double>(out->size() - start));
      return out->size() > start;
    }

    int64_t rows = 0, bytes = 0;

   private:
    Loader& loader_;
    const TableJob& job_;
    RowCursor& rows_;
    const Format format_;
    const size_t piece_;
    bool started_ = false, ended_ = false;
  };

  // PostgreSQL to PostgreSQL, types as they are: the source's COPY output, counted, is the
  // destination's COPY input.
  class CopyRelay final : public ByteSource {
   public:
    CopyRelay(Loader& loader, ByteSource& in, bool binary) : loader_(loader), in_(in), binary_(binary) {}
    StatusOr<bool> Read(std::string* out) override {
      const size_t start = out->size();
      auto more = in_.Read(out);
      if (!more.ok() || !*more) return more;
      std::string_view piece(out->data() + start, out->size() - start);
      int64_t n;
      if (binary_) {
        auto counted = binary_rows_.Feed(piece);
        if (!counted.ok()) return counted.status();
        n = *counted;
      } else {
        n = std::count(piece.begin(), piece.end(), '\n');  // one line a row: a newline in a value is escaped
      }
      rows += n;
      bytes += static_cast<int64_t>(out->size() - start);
      loader_.throttle_.rows.Take(static_cast<double>(n));
      loader_.throttle_.bytes.Take(static_cast<double>(out->size() - start));
      return true;
    }

    int64_t rows = 0, bytes = 0;

   private:
    Loader& loader_;
    ByteSource& in_;
    const bool binary_;
    BinaryCopyRows binary_rows_;
  };

  Status CopyChunk(Work& w, Connection& src, Connection& dst) {
    TableJob& job = *w.job;
    const TableMapping& t = *job.mapping;
    std::string pred = ChunkPredicate(src.engine(), *t.source, w.chunk);
    if (!t.where.empty()) pred += " AND (" + t.where + ")";  // the plan's filter runs on the source only
    const bool pg = dst.engine() == ir::Engine::kPostgres;
    const bool load_data = !pg && !job.load_data.empty() && load_data_.load();
    // A throttled read is buffered: a streamed one would keep the source server waiting on us.
    const bool stream = !m_.throttle_full || (!m_.throttle_full->rows_per_s && !m_.throttle_full->mb_per_s);

    throttle_.qps.Take(1);
    std::unique_ptr<RowCursor> cursor;
    std::unique_ptr<ByteSource> copy_out;
    std::unique_ptr<RowEncoder> encoder;
    std::unique_ptr<CopyRelay> relay;
    ByteSource* input;
    if (!job.copy_out.empty()) {
      auto c = src.CopyOut(job.copy_out + pred + job.copy_out_tail);
      if (!c.ok()) return c.status();
      copy_out = std::move(c).value();
      relay = std::make_unique<CopyRelay>(*this, *copy_out, job.binary);
      input = relay.get();
    } else {
      auto c = src.OpenCursor(job.select + pred, stream);
      if (!c.ok()) return c.status();
      cursor = std::move(c).value();
      encoder = std::make_unique<RowEncoder>(*this, job, *cursor,
                                             pg ? (job.binary ? Format::kCopyBinary : Format::kCopyText)
                                                : load_data ? Format::kLoadData : Format::kSqlLiteral);
      input = encoder.get();
    }

    FERRY_RETURN_IF_ERROR(dst.Begin());
    auto fail = [&](Status st) {
      (void)dst.Rollback();
      return st;
    };
    Status st;
    if (pg && !job.stage_table.empty()) {
      // Every time: a rolled-back chunk takes a temporary table created in its transaction along.
      st = dst.Execute(job.stage_setup);
      if (!st.ok()) return fail(st);
    }
    if (pg) {
      st = dst.BulkLoad(job.copy, *input);
    } else if (load_data) {
      st = dst.BulkLoad(job.load_data, *input);
    } else {
      std::string values;
      while (st.ok()) {
        values.clear();
        auto more = input->Read(&values);
        if (!more.ok()) st = more.status();
        if (!st.ok() || !*more) break;
        st = dst.Execute(job.insert_head + values + job.insert_tail);
      }
    }
    if (st.code() == Code::kUnimplemented && load_data) {
      // The server refuses LOAD DATA LOCAL (local_infile = OFF): multi-row INSERTs from now on.
      (void)dst.Rollback();
      encoder.reset();
      cursor.reset();  // read to its end: the source connection serves the next query
      if (load_data_.exchange(false) && opt_.on_notice) {  // said once
        opt_.on_notice(fmt::format("{} refuses LOAD DATA LOCAL INFILE ({}); loading with multi-row INSERTs, "
                                   "which is slower. SET GLOBAL local_infile = ON on it for the fast path.",
                                   dst.options().label, st.message()));
      }
      return CopyChunk(w, src, dst);
    }
    if (!st.ok()) return fail(st);
    if (pg && !job.stage_table.empty()) {
      st = dst.Execute(job.stage_merge);
      if (st.ok()) st = dst.Execute("TRUNCATE " + job.stage_table);
      if (!st.ok()) return fail(st);
    }
    ChunkRecord done = w.chunk;
    done.rows = encoder ? encoder->rows : relay->rows;
    done.bytes = encoder ? encoder->bytes : relay->bytes;
    auto marked = MarkDone(dst, done);
    if (!marked.ok()) return fail(marked.status());
    if (!*marked) {  // an earlier attempt committed it: ours goes
      (void)dst.Rollback();
      return Committed(job, 0, 0);
    }
    st = dst.Commit();
    if (!st.ok()) return fail(st);
    return Committed(job, done.rows, done.bytes);
  }

  // A chunk of the job is in the destination: counted, and the table's indexes may start once
  // it was the last.
  Status Committed(TableJob& job, int64_t rows, int64_t bytes) {
    job.rows += rows;
    job.bytes += bytes;
    if (++job.chunks_done == job.chunks && opt_.on_table_done) opt_.on_table_done(*job.mapping);
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
  Status ValueError(const Status& st, const TableJob& job, const RowCursor& row, size_t i) {
    const TableMapping& t = *job.mapping;
    const ColumnMapping& c = t.columns[job.written[i]];
    std::string key;
    if (const Index* k = t.source->ChunkKey()) {
      for (const auto& kc : k->columns) {
        for (size_t j = 0; j < job.written.size(); ++j) {
          if (t.columns[job.written[j]].source->name == kc) {
            auto v = row.Get(j);
            key += (key.empty() ? "" : ", ") + kc + " = " + (v ? std::string(*v) : std::string("NULL"));
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
  std::vector<std::unique_ptr<TableJob>> jobs_;
  std::vector<Work> work_;
  std::atomic<size_t> next_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  bool finished_ = false;
  bool stopped_ = false;
  Status error_;
  Clock::time_point start_ = Clock::now();
  FullThrottle throttle_;
  std::atomic<bool> load_data_{true};  // the MySQL-family destination takes LOAD DATA LOCAL
};

}  // namespace

Status RunFullLoad(MigrationContext& ctx, const LoadOptions& options) { return Loader(ctx, options).Run(); }

}  // namespace ferry::runtime
