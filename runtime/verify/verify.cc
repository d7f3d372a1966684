#include "runtime/verify/verify.h"

#include <fmt/format.h>
#include <openssl/evp.h>

#include <algorithm>
#include <cstdlib>
#include <chrono>
#include <condition_variable>
#include <future>
#include <map>
#include <set>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "compiler/type_pattern.h"
#include "runtime/dry_run.h"
#include "runtime/lease.h"
#include "runtime/load/chunks.h"
#include "runtime/load/throttle.h"
#include "runtime/meta.h"
#include "runtime/sql.h"
#include "runtime/verify/normalize.h"
#include "runtime/verify/row_hash.h"

namespace ferry::runtime {

namespace {

using Clock = std::chrono::steady_clock;

// A differing part is read row by row once neither side has more rows than this.
constexpr int64_t kLeafRows = 20000;
// Rounds of splitting by key hash (256 parts a round) before a part is read row by row anyway.
constexpr int kMaxDepth = 3;
// Differences kept per chunk and listed per table; all are counted.
constexpr size_t kListed = 1000;
// A PostgreSQL table up to this size (the source's estimate) is read by one sequential scan
// for all its chunks' counts and sums (TablePlan::dst_scan): a rerun of that scan is all a
// verify killed halfway through such a table loses.
constexpr int64_t kScanBytes = int64_t{1} << 30;

std::string Sha256Hex(std::string_view data, size_t hex_digits) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(data.data(), data.size(), md, &n, EVP_sha256(), nullptr);
  return HexDigits(std::string_view(reinterpret_cast<const char*>(md), n)).substr(0, hex_digits);
}

// A SUM as the server prints it (a decimal, possibly negative), modulo 2^64.
uint64_t SumMod64(const Value& v) {
  if (!v) return 0;
  std::string_view s = *v;
  bool neg = !s.empty() && s[0] == '-';
  uint64_t x = 0;
  for (char c : s.substr(neg ? 1 : 0)) {
    if (c == '.') break;
    x = x * 10 + static_cast<uint64_t>(c - '0');
  }
  return neg ? ~x + 1 : x;
}

// A value as reports show it: long values shortened, with a digest that still tells two apart.
Text Display(const Text& v) {
  if (!v || v->size() <= 200) return v;
  size_t cut = 120;
  while (cut > 0 && (static_cast<unsigned char>((*v)[cut]) & 0xC0) == 0x80) --cut;  // a UTF-8 boundary
  return fmt::format("{}… ({} bytes, sha256 {})", v->substr(0, cut), v->size(), Sha256Hex(*v, 16));
}

void AppendField(const Text& v, std::string* out) {
  if (!v) {
    out->append("N|");
    return;
  }
  out->append(std::to_string(v->size())).append(":").append(*v).append("|");
}

struct Part {
  int64_t rows = 0;
  uint64_t sum = 0;
  bool operator==(const Part& o) const { return rows == o.rows && sum == o.sum; }
  bool operator!=(const Part& o) const { return !(*this == o); }
};

// ---- per table ----------------------------------------------------------------------------

struct TablePlan {
  const TableMapping* mapping = nullptr;
  std::string name;  // source schema.table
  std::vector<CompareColumn> columns;
  std::vector<size_t> key;  // indexes into columns; empty: compared as a multiset
  // The side whose rows Ferry reads and hashes itself, as PostgreSQL does (row_hash.h): a
  // MySQL side compared with PostgreSQL, which is also where Ferry finishes values
  // (normalize.h Finish).
  bool src_client = false, dst_client = false;
  // A side Ferry reads in the binary protocol (Connection::OpenBinaryCursor): not a table with
  // a MySQL float or double compared as its text, whose digits that protocol leaves to Ferry.
  bool src_binary = false, dst_binary = false;
  std::string src_from, dst_from;
  std::string src_row, dst_row;  // the row's canonical text (SQL)
  // The row's hash in SQL where it is not that of src_row/dst_row: PostgreSQL to PostgreSQL (14
  // and later, both), straight from its values (hash_record_extended), without printing them;
  // a PostgreSQL side compared with one Ferry hashes, column by column (row_hash.h ColumnsHash).
  std::string src_hash, dst_hash;
  std::string src_key, dst_key;  // the key's canonical text (SQL), or the row's when keyless
  bool ranges = false;           // chunked by key ranges (else one chunk)
  // A PostgreSQL side hashed in SQL whose table is at most kScanBytes and chunked by integer
  // ranges counts and sums every chunk in one sequential scan, grouped by the SQL here (the
  // chunk's position in `chunks`); empty: chunk by chunk. A sequential scan of a table larger
  // than a quarter of shared_buffers reads through a 256 KB ring: key ranges read through the
  // whole buffer pool, which evicts what the server's own clients keep there, and each backend
  // faults in every page of it once (4 KB at a time without huge pages). Not a source that
  // throttles limit: one query could not be slowed down.
  std::string src_scan, dst_scan;
  std::vector<ChunkRecord> chunks;  // the table's, in order, where a side scans
  struct Scanned {
    std::mutex mu;  // held by whoever scans (the prefetch thread or a worker); the others wait
    bool done = false;
    std::vector<Part> parts;  // by position in `chunks`
  };
  mutable Scanned src_scanned, dst_scanned;
  bool same_engine = false;
  Table dst_view;                // the destination table as ChunkPredicate needs it
  std::string problem;
  double row_bytes = 200;        // average, for mb_per_s
};

struct ChunkResult {
  int64_t src_rows = 0, dst_rows = 0;
  int64_t differences = 0;
  std::vector<Difference> listed;
};

nlohmann::json TextJson(const Text& t) { return t ? nlohmann::json(*t) : nlohmann::json(nullptr); }
Text JsonText(const nlohmann::json& j) { return j.is_null() ? Text() : Text(j.get<std::string>()); }

nlohmann::json PairsJson(const std::vector<std::pair<std::string, Text>>& v) {
  nlohmann::json a = nlohmann::json::array();
  for (const auto& [k, x] : v) a.push_back({k, TextJson(x)});
  return a;
}
std::vector<std::pair<std::string, Text>> JsonPairs(const nlohmann::json& a) {
  std::vector<std::pair<std::string, Text>> v;
  for (const auto& p : a) v.emplace_back(p[0].get<std::string>(), JsonText(p[1]));
  return v;
}

nlohmann::json DifferenceJson(const Difference& d) {
  nlohmann::json j = {{"kind", d.kind}, {"key", PairsJson(d.key)}};
  if (d.kind == "differs") {
    j["columns"] = nlohmann::json::array();
    for (const auto& c : d.columns) j["columns"].push_back({c.name, TextJson(c.source), TextJson(c.destination)});
  } else {
    j["row"] = PairsJson(d.row);
    j["hash"] = d.hash;
  }
  return j;
}

Difference JsonDifference(const nlohmann::json& j) {
  Difference d;
  d.kind = j.at("kind").get<std::string>();
  d.key = JsonPairs(j.at("key"));
  if (j.contains("columns")) {
    for (const auto& c : j["columns"]) d.columns.push_back({c[0].get<std::string>(), JsonText(c[1]), JsonText(c[2])});
  }
  if (j.contains("row")) d.row = JsonPairs(j["row"]);
  if (j.contains("hash")) d.hash = j["hash"].get<std::string>();
  return d;
}

class Verifier {
 public:
  Verifier(MigrationContext& ctx, const VerifyOptions& o)
      : ctx_(ctx),
        m_(*ctx.migration),
        opt_(o),
        throttle_(m_.throttle_full) {}

  StatusOr<VerifyReport> Run() {
    start_ = Clock::now();
    report_.migration = m_.name;
    report_.mode = ModeName(opt_.mode);
    FERRY_RETURN_IF_ERROR(CheckServers());
    // One verify of a migration at a time (an apply's lease is another one).
    auto lease = Lease::Take([this] { return ConnectTo(ctx_, ctx_.destination); }, ctx_.migration_key + " (verify)");
    if (!lease.ok()) return lease.status();
    auto meta = ConnectTo(ctx_, ctx_.destination);
    if (!meta.ok()) return meta.status();
    FERRY_RETURN_IF_ERROR(EnsureMeta(**meta));
    FERRY_RETURN_IF_ERROR(Plan(**meta));
    FERRY_RETURN_IF_ERROR(Compare());
    auto chunks = ReadVerifyChunks(**meta, ctx_.migration_key);
    if (!chunks.ok()) return chunks.status();
    Summarise(*chunks);
    FERRY_RETURN_IF_ERROR(FinishVerifyRun(**meta, ctx_.migration_key, report_.equal ? "equal" : "differs"));
    report_.seconds = std::chrono::duration<double>(Clock::now() - start_).count();
    return report_;
  }

 private:
  static std::string ModeName(ir::VerifyMode m) {
    return m == ir::VerifyMode::kCount ? "count" : m == ir::VerifyMode::kRows ? "rows" : "checksum";
  }

  // Checksum and rows compare values as PostgreSQL 13 and later print them: trim_scale (13),
  // floats at their shortest digits (12), hashtextextended (11). Count works with any.
  Status CheckServers() const {
    if (opt_.mode == ir::VerifyMode::kCount) return Status::Ok();
    for (const Side* side : {&ctx_.source, &ctx_.destination}) {
      if (!side->conn || side->conn->engine() != ir::Engine::kPostgres) continue;
      if (VerifyPgMajor(*side->conn) < kVerifyMinPgMajor) {
        return Status(Code::kFailedPrecondition,
                      fmt::format("verify --mode {} needs PostgreSQL 13 or later, and the {} ({}) is PostgreSQL {}: "
                                  "it compares values as PostgreSQL 13 prints them (trim_scale, floats at their "
                                  "shortest digits); --mode count works with any version",
                                  ModeName(opt_.mode), side == &ctx_.source ? "source" : "destination",
                                  side->endpoint != nullptr ? side->endpoint->name : "?", side->conn->server().version));
      }
    }
    return Status::Ok();
  }

  // ---- planning ------------------------------------------------------------------------------

  void PrepareTable(TablePlan& p, const TableMapping& t, ir::ZeroDates zero_dates) {
    const ir::Engine from = m_.from_engine, to = m_.to_engine;
    p.mapping = &t;
    p.name = t.source->schema + "." + t.source->name;
    p.same_engine = ir::IsMysqlFamily(from) == ir::IsMysqlFamily(to);
    p.src_from = QuoteName(from, t.source->schema, t.source->name);
    p.dst_from = QuoteName(to, t.dst_schema, t.dst_table);
    if (t.source->rows_estimate > 0 && t.source->bytes_estimate > 0) {
      p.row_bytes = static_cast<double>(t.source->bytes_estimate) / static_cast<double>(t.source->rows_estimate);
    }
    const Table* dst = ctx_.destination.catalog.FindTable(t.dst_schema, t.dst_table);
    if (dst == nullptr) {
      p.problem = fmt::format("the destination has no table {}.{}", t.dst_schema, t.dst_table);
      return;
    }
    std::vector<std::string> missing;
    for (const auto& c : t.columns) {
      const Column* dc = dst->FindColumn(c.name);
      if (dc == nullptr) missing.push_back(c.name);
      p.columns.push_back(PlanCompare(from, to, c, zero_dates));
      // A PostgreSQL destination hashes a number as the type the plan gave it: a table kept as
      // it was (conflicts = ignore) may type the column otherwise, and text cannot be cast.
      CompareColumn& cc = p.columns.back();
      if (cc.hash_as != HashAs::kText && to == ir::Engine::kPostgres &&
          (dc == nullptr || !SameType(to, dc->type, c.type))) {
        cc.hash_as = HashAs::kText;
      }
    }
    if (!missing.empty()) {
      p.problem = fmt::format("the destination table {}.{} has no column {}", t.dst_schema, t.dst_table,
                              fmt::join(missing, ", "));
      return;
    }
    const Index* key = t.source->ChunkKey();
    std::vector<CompareColumn> key_columns;
    if (key != nullptr) {
      for (const auto& kc : key->columns) {
        auto it = std::find_if(t.columns.begin(), t.columns.end(), [&](const ColumnMapping& c) { return c.source->name == kc; });
        if (it == t.columns.end()) {  // a key column excluded by the plan: no key to go by
          p.key.clear();
          key_columns.clear();
          key = nullptr;
          break;
        }
        size_t i = static_cast<size_t>(it - t.columns.begin());
        p.key.push_back(i);
        // A key's hash is computed in both databases: from its canonical text in SQL, also
        // where Ferry finishes the column's values (a datetime key between MySQL and PostgreSQL).
        key_columns.push_back(InSql(p.columns[i]).value_or(p.columns[i]));  // JSON is never a key
      }
    }
    p.src_row = RowText(from, p.columns, true);
    p.dst_row = RowText(to, p.columns, false);
    // Between MySQL and PostgreSQL the MySQL side sends its columns' canonical values and Ferry
    // hashes them as PostgreSQL does: that costs MySQL half of what SHA-256 in SQL does, and
    // PostgreSQL's hashtextextended a third of its SHA-256 (docs/verify.md has the figures).
    if (!p.same_engine) (ir::IsMysqlFamily(from) ? p.src_client : p.dst_client) = true;
    // A PostgreSQL side in another encoding than the other side's: its text hashed as UTF-8.
    bool src_utf8 = false, dst_utf8 = false;
    if (ctx_.source.conn && ctx_.destination.conn) {
      src_utf8 = VerifyReencodes(*ctx_.source.conn, *ctx_.destination.conn);
      dst_utf8 = VerifyReencodes(*ctx_.destination.conn, *ctx_.source.conn);
    }
    p.src_client |= src_utf8;
    p.dst_client |= dst_utf8;
    p.src_binary = p.src_client;
    p.dst_binary = p.dst_client;
    for (size_t i = 0; i < t.columns.size(); ++i) {
      const CompareColumn& c = p.columns[i];
      for (bool source : {true, false}) {
        auto type = ParseSqlType(source ? t.columns[i].source->type : t.columns[i].type);
        bool floating = type && (type->name == "float" || type->name == "double" || type->name == "real" ||
                                 type->name == "double precision");
        if (floating && c.hash_as == HashAs::kText && (source ? c.src_finish : c.dst_finish) == Finish::kNone) {
          (source ? p.src_binary : p.dst_binary) = false;
        }
      }
    }
    if (p.src_client != p.dst_client) {
      // The other side is PostgreSQL in UTF8: a MySQL side is always read by Ferry beside
      // PostgreSQL, and a PostgreSQL side only when its encoding is another one.
      std::vector<HashedColumn> hashed;
      for (const auto& c : p.columns) {
        const std::string& number = p.src_client ? c.dst_number : c.src_number;
        hashed.push_back(c.hash_as == HashAs::kText ? HashedColumn{p.src_client ? c.dst : c.src, HashAs::kText}
                                                    : HashedColumn{number, c.hash_as});
      }
      (p.src_client ? p.dst_hash : p.src_hash) = ColumnsHashSql(hashed);
    }
    RecordHashes(p, t);
    if (key == nullptr) {
      // Without a key, rows are grouped by their whole text in SQL, but for the columns only
      // Ferry makes canonical (JSON from MySQL), and doubles between engines by a coarser text
      // (src_group): MySQL's SQL text of a double whose shortest decimal lies exactly halfway
      // to its neighbour has other digits than PostgreSQL's (normalize.cc PgShortest). Rows of
      // a group are then matched by all their values, as Ferry makes them canonical.
      for (const auto& c : p.columns) {
        if (!c.src_group.empty()) {
          CompareColumn g = c;
          g.src = c.src_group;
          g.dst = c.dst_group;
          g.src_finish = g.dst_finish = Finish::kNone;
          g.fixed = true;
          key_columns.push_back(std::move(g));
        } else if (auto in_sql = InSql(c)) {
          key_columns.push_back(*std::move(in_sql));
        }
      }
    }
    p.src_key = RowText(from, key_columns, true, src_utf8);
    p.dst_key = RowText(to, key_columns, false, dst_utf8);
    if (src_utf8) p.src_key = fmt::format("convert_to({}, 'UTF8')", p.src_key);  // md5() of its UTF-8 bytes
    if (dst_utf8) p.dst_key = fmt::format("convert_to({}, 'UTF8')", p.dst_key);
    if (key == nullptr) return;
    // Key ranges select the same rows on both sides when both order the key the same way:
    // the same engine, key types and encoding, or a leading integer column.
    const ColumnMapping* first = t.FindSource(key->columns[0]);
    bool same_types = p.same_engine;
    for (const auto& kc : key->columns) same_types &= t.FindSource(kc)->type == t.source->FindColumn(kc)->type;
    bool integer = IntegerLeadingKey(*t.source) && first != nullptr &&
                   (first->type.find("int") != std::string::npos || first->type.rfind("numeric", 0) == 0 ||
                    first->type.rfind("decimal", 0) == 0);
    // Not text keys in two encodings: their bytes may order differently (KOI8-R, WIN1252).
    p.ranges = (same_types && !src_utf8 && !dst_utf8) || integer;
    // The destination's side of the chunk predicates: its names and types, the same key.
    p.dst_view = *t.source;
    p.dst_view.schema = t.dst_schema;
    p.dst_view.name = t.dst_table;
    for (auto& c : p.dst_view.columns) {
      if (const ColumnMapping* cm = t.FindSource(c.name)) {
        c.type = cm->type;
        c.name = cm->name;
      }
    }
    Index k = *key;
    k.primary = true;
    for (auto& kc : k.columns) kc = t.FindSource(kc)->name;
    p.dst_view.indexes = {k};
  }

  // Between two PostgreSQL servers, a row's hash from its values: each column of a type whose
  // hash tells exactly its unequal values apart, as it is (its type's own hash function:
  // nothing printed), and any other as its canonical text. Numeric (1.50 and 1.5 hash alike,
  // and so do 1.5 and -1.5) and interval ('1 day' and '24 hours' do) go as text, as does a
  // column the two sides type differently or that has a collation of its own (a
  // nondeterministic one hashes 'A' as 'a').
  void RecordHashes(TablePlan& p, const TableMapping& t) {
    // Not bigint, timestamps or time: their hash folds 64 bits into 32 (hashint8extended), so
    // 0 and 4294967297 hash alike. Not numeric: its hash ignores the sign. Not jsonb: [] and
    // {} hash alike, and so do 1 and [1].
    static const std::set<std::string, std::less<>> kHashedAsIs = {
        "smallint", "integer", "boolean", "text", "character varying", "character", "date", "uuid", "bytea",
        "real", "double precision"};
    // Types with a value that hashes as NULL does (0: a float's zero): such a column is
    // followed by whether it is NULL.
    static const std::set<std::string, std::less<>> kNullLikeHash = {"real", "double precision"};
    auto recent = [](const Side& side) { return side.conn && side.conn->server().major >= 14; };
    if (m_.from_engine != ir::Engine::kPostgres || m_.to_engine != ir::Engine::kPostgres || !recent(ctx_.source) ||
        !recent(ctx_.destination) || p.columns.empty() || p.src_client || p.dst_client) {
      return;  // a side hashed by Ferry hashes the row's text
    }
    const Table* dst_table = ctx_.destination.catalog.FindTable(t.dst_schema, t.dst_table);
    std::vector<std::string> src, dst;
    for (size_t i = 0; i < t.columns.size(); ++i) {
      const ColumnMapping& c = t.columns[i];
      auto type = ParseSqlType(c.type);
      std::string base = type ? type->name : "";  // without modifiers: "timestamp with time zone"
      // Both sides as the catalogs have them: a destination table kept as it was (conflicts =
      // ignore) may type or collate the column its own way.
      const Column* dc = dst_table != nullptr ? dst_table->FindColumn(c.name) : nullptr;
      bool as_is = c.type == c.source->type && c.source->collation.empty() && dc != nullptr &&
                   SameType(ir::Engine::kPostgres, dc->type, c.type) && dc->collation.empty() &&
                   kHashedAsIs.count(base) > 0;
      src.push_back(as_is ? QuoteIdent(ir::Engine::kPostgres, c.source->name) : "(" + p.columns[i].src + ") COLLATE \"C\"");
      dst.push_back(as_is ? QuoteIdent(ir::Engine::kPostgres, c.name) : "(" + p.columns[i].dst + ") COLLATE \"C\"");
      if (as_is && kNullLikeHash.count(base) > 0) {
        src.push_back(QuoteIdent(ir::Engine::kPostgres, c.source->name) + " IS NULL");
        dst.push_back(QuoteIdent(ir::Engine::kPostgres, c.name) + " IS NULL");
      }
    }
    // ROW of one column is that column, not a record: a constant second field keeps it a row.
    // hash_record_extended combines its fields' hashes linearly (h * 31 + field), so a sum of
    // them would not see values swapped between rows: each row's is hashed again.
    p.src_hash = fmt::format("hashtextextended(hash_record_extended(ROW({}, 0), 0)::text, 0)", fmt::join(src, ", "));
    p.dst_hash = fmt::format("hashtextextended(hash_record_extended(ROW({}, 0), 0)::text, 0)", fmt::join(dst, ", "));
  }

  Status Plan(Connection& meta) {
    auto run = ReadVerifyRun(meta, ctx_.migration_key);
    if (!run.ok()) return run.status();
    std::vector<VerifyChunk> stored;
    if (*run && (*run)->state == "running" && (*run)->mode == report_.mode) {
      auto c = ReadVerifyChunks(meta, ctx_.migration_key);
      if (!c.ok()) return c.status();
      stored = std::move(c).value();
      report_.resumed = true;
    } else {
      FERRY_RETURN_IF_ERROR(StartVerifyRun(meta, ctx_.migration_key, report_.mode));
    }
    std::map<std::string, std::vector<VerifyChunk>> by_table;
    for (auto& c : stored) by_table[c.range.table].push_back(std::move(c));
    ir::ZeroDates zero_dates = ctx_.plan->EffectiveZeroDates(m_.typemap);
    std::unique_ptr<Connection> src;
    int done = 0;
    for (const auto& t : ctx_.selection.tables) {
      auto p = std::make_unique<TablePlan>();
      PrepareTable(*p, t, zero_dates);
      auto& chunks = by_table[p->name];
      if (chunks.empty() && p->problem.empty()) {
        std::vector<ChunkRecord> planned;
        if (opt_.mode != ir::VerifyMode::kCount && p->ranges) {
          if (!src) {
            auto c = ConnectTo(ctx_, ctx_.source);
            if (!c.ok()) return c.status();
            src = std::move(c).value();
            FERRY_RETURN_IF_ERROR(src->SetReadOnly());
          }
          throttle_.qps.Take(1);
          auto r = PlanTableChunks(*src, *t.source, ChunkRows(*t.source) * 4, !p->same_engine);
          if (!r.ok()) return Named(r.status(), *p, nullptr);
          planned = std::move(r).value();
        } else {
          planned.push_back(ChunkRecord{p->name, 0, "", "", false, 0, 0});
        }
        FERRY_RETURN_IF_ERROR(PlanVerifyChunks(meta, ctx_.migration_key, planned));
        for (const auto& c : planned) chunks.push_back(VerifyChunk{c, "pending", 0, 0, ""});
      }
      PlanScans(*p, chunks);
      for (const auto& c : chunks) {
        if (c.state == "pending") work_.push_back({p.get(), c});
        else ++done;
      }
      total_ += static_cast<int>(chunks.size());
      tables_.push_back(std::move(p));
    }
    done_ = done;
    if (report_.resumed && opt_.on_notice) {
      opt_.on_notice(fmt::format("resuming the verify that stopped: {} of {} chunks were compared already", done, total_));
    }
    return Status::Ok();
  }

  void PlanScans(TablePlan& p, const std::vector<VerifyChunk>& chunks) {
    const Table& source = *p.mapping->source;
    if (opt_.mode != ir::VerifyMode::kChecksum || !p.ranges || !p.problem.empty() || chunks.size() < 2 ||
        source.bytes_estimate <= 0 || source.bytes_estimate > kScanBytes) {
      return;
    }
    for (const auto& c : chunks) p.chunks.push_back(c.range);
    std::sort(p.chunks.begin(), p.chunks.end(), [](const ChunkRecord& x, const ChunkRecord& y) { return x.no < y.no; });
    if (m_.to_engine == ir::Engine::kPostgres && !p.dst_client) p.dst_scan = PgChunkIndexSql(p.dst_view, p.chunks).value_or("");
    if (m_.from_engine == ir::Engine::kPostgres && !p.src_client && !m_.throttle_full) {
      p.src_scan = PgChunkIndexSql(source, p.chunks).value_or("");
    }
  }

  // ---- comparing -----------------------------------------------------------------------------

  struct Work {
    TablePlan* table;
    VerifyChunk chunk;
  };

  Status Compare() {
    int workers = std::max(1, std::min<int>(m_.workers, static_cast<int>(work_.size())));
    std::vector<std::thread> threads;
    for (int i = 0; i < workers && !work_.empty(); ++i) threads.emplace_back([this] { Worker(); });
    std::thread progress([this] { Progress(); });
    bool scans = std::any_of(tables_.begin(), tables_.end(), [](const auto& t) { return !t->src_scan.empty() || !t->dst_scan.empty(); });
    std::thread prefetch;
    if (scans) prefetch = std::thread([this] { Prefetch(); });
    for (auto& t : threads) t.join();
    if (prefetch.joinable()) prefetch.join();
    {
      std::lock_guard<std::mutex> lock(mu_);
      finished_ = true;
    }
    cv_.notify_all();
    progress.join();
    if (!error_.ok()) return error_;
    if (stopped_) return Status(Code::kCancelled, "stopped between chunks; run ferry verify again to resume");
    return Status::Ok();
  }

  bool Stopping() {
    std::lock_guard<std::mutex> lock(mu_);
    if (opt_.stop != nullptr && opt_.stop->load()) stopped_ = true;
    return stopped_ || !error_.ok();
  }

  void Worker() {
    std::unique_ptr<Connection> src, dst, meta;
    while (!Stopping()) {
      size_t i = next_.fetch_add(1);
      if (i >= work_.size()) return;
      Work& w = work_[i];
      Status st = CompareWithRetry(w, src, dst, meta);
      if (!st.ok()) {
        bool stopped = StopAsked() && st.code() == Code::kCancelled;  // its scan was cancelled
        std::lock_guard<std::mutex> lock(mu_);
        if (stopped) stopped_ = true;
        else if (error_.ok()) error_ = st;
        return;
      }
      ++done_;
    }
  }

  // A connection to one side for reading (`read_only`), or to the destination for ferry_meta.
  Status Open(std::unique_ptr<Connection>& c, bool source, bool read_only) {
    if (c) return Status::Ok();
    auto r = ConnectTo(ctx_, source ? ctx_.source : ctx_.destination);
    if (!r.ok()) return r.status();
    c = std::move(r).value();
    if (read_only) FERRY_RETURN_IF_ERROR(c->SetReadOnly());
    // Verify runs its own workers, one query each: PostgreSQL's parallel workers on top of
    // them only compete for the same cores (a tenth slower on the benchmark).
    if (c->engine() == ir::Engine::kPostgres) FERRY_RETURN_IF_ERROR(c->Execute("SET max_parallel_workers_per_gather = 0"));
    return Status::Ok();
  }

  Status Reconnect(std::unique_ptr<Connection>& src, std::unique_ptr<Connection>& dst, std::unique_ptr<Connection>& meta) {
    FERRY_RETURN_IF_ERROR(Open(src, true, true));
    FERRY_RETURN_IF_ERROR(Open(dst, false, true));
    return Open(meta, false, false);
  }

  // Runs the tables' scans (TablePlan::dst_scan) one after another, in the workers' order and
  // ahead of them, on connections of its own: a worker then finds a table's counts and sums
  // made while it read the other side of earlier chunks, instead of both workers waiting for
  // one scan. A scan that fails here is run by the worker that needs it, which retries it as
  // any chunk's query.
  void Prefetch() {
    std::unique_ptr<Connection> src, dst;
    std::set<const TablePlan*> seen;
    for (const Work& w : work_) {
      if (!seen.insert(w.table).second) continue;
      for (bool source : {false, true}) {
        if ((source ? w.table->src_scan : w.table->dst_scan).empty()) continue;
        if (Stopping() || !Open(source ? src : dst, source, true).ok()) return;
        auto scanned = ScannedPart(*w.table, source, *(source ? src : dst), w.chunk.range);
        if (!scanned.ok()) (source ? src : dst).reset();  // a broken connection is not reused
      }
    }
  }

  Status CompareWithRetry(Work& w, std::unique_ptr<Connection>& src, std::unique_ptr<Connection>& dst,
                          std::unique_ptr<Connection>& meta) {
    auto began = Clock::now();
    int attempt = 0;
    while (true) {
      Status st = Reconnect(src, dst, meta);
      ChunkResult r;
      if (st.ok()) st = CompareChunk(*w.table, w.chunk.range, *src, *dst, &r);
      if (st.ok()) {
        VerifyChunk v = w.chunk;
        v.src_rows = r.src_rows;
        v.dst_rows = r.dst_rows;
        v.state = r.differences == 0 && r.src_rows == r.dst_rows ? "equal" : "differs";
        nlohmann::json d = nlohmann::json::array();
        for (const auto& x : r.listed) d.push_back(DifferenceJson(x));
        v.result = nlohmann::json{{"differences", r.differences}, {"listed", d}}.dump(
            -1, ' ', false, nlohmann::json::error_handler_t::replace);
        st = RecordVerifyChunk(*meta, ctx_.migration_key, v);
        if (st.ok()) return st;
      }
      auto delay = RetryDelayMs(st, m_.retry, began, &attempt);
      if (!delay || Stopping()) return Named(st, *w.table, &w.chunk.range);
      if (st.code() == Code::kUnavailable) {  // a lost connection is not reused
        src.reset();
        dst.reset();
        meta.reset();
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(*delay));
    }
  }

  static Status Named(const Status& st, const TablePlan& t, const ChunkRecord* chunk) {
    return Status(st.code(),
                  fmt::format("verify of {} (selected at {}){}: {}", t.name, t.mapping->loc,
                              chunk != nullptr && (!chunk->lo.empty() || !chunk->hi.empty())
                                  ? fmt::format(", chunk {}", chunk->no)
                                  : "",
                              st.message()),
                  st.native());
  }

  struct Preds {
    std::string src, dst;
  };

  Preds Predicates(const TablePlan& t, const ChunkRecord& chunk) {
    Preds p;
    p.src = ChunkPredicate(m_.from_engine, *t.mapping->source, chunk);
    if (!t.mapping->where.empty()) p.src += " AND (" + t.mapping->where + ")";  // runs on the source only
    p.dst = ChunkPredicate(m_.to_engine, t.dst_view, chunk);
    return p;
  }

  // Runs the source's and the destination's query at the same time.
  template <typename F>
  Status Both(F&& on_src, F&& on_dst) {
    auto fut = std::async(std::launch::async, on_dst);
    Status a = on_src();
    Status b = fut.get();
    return a.ok() ? b : a;
  }

  Status CompareChunk(const TablePlan& t, const ChunkRecord& chunk, Connection& src, Connection& dst, ChunkResult* r) {
    Preds p = Predicates(t, chunk);
    if (opt_.mode == ir::VerifyMode::kCount) {
      auto count = [this](Connection* c, const std::string& from, const std::string& pred, int64_t* out, bool source) {
        return [c, from, pred, out, source, this]() -> Status {
          if (source) throttle_.qps.Take(1);
          auto q = c->Query(fmt::format("SELECT COUNT(*) FROM {} WHERE {}", from, pred));
          if (!q.ok()) return q.status();
          *out = std::stoll(q->rows[0][0].value_or("0"));
          if (source) throttle_.rows.Take(static_cast<double>(*out));
          return Status::Ok();
        };
      };
      std::function<Status()> a = count(&src, t.src_from, p.src, &r->src_rows, true);
      std::function<Status()> b = count(&dst, t.dst_from, p.dst, &r->dst_rows, false);
      FERRY_RETURN_IF_ERROR(Both(a, b));
      if (r->src_rows != r->dst_rows) r->differences = std::abs(r->src_rows - r->dst_rows);
      return Status::Ok();
    }
    if (opt_.mode == ir::VerifyMode::kRows) return Leaf(t, p, "", src, dst, r);
    std::map<std::string, Part> a, b;
    FERRY_RETURN_IF_ERROR(Parts(t, p, "", src, dst, &a, &b, 0, &chunk));
    r->src_rows = a[""].rows;
    r->dst_rows = b[""].rows;
    if (a[""] == b[""]) return Status::Ok();
    return Narrow(t, p, "", a[""], b[""], 0, src, dst, r);
  }

  // Splits a differing part by the next two hex digits of its keys' hash, until a part is
  // small enough to read row by row.
  Status Narrow(const TablePlan& t, const Preds& p, const std::string& prefix, Part a, Part b, int depth,
                Connection& src, Connection& dst, ChunkResult* r) {
    if (std::max(a.rows, b.rows) <= kLeafRows || depth >= kMaxDepth) {
      ChunkResult leaf;
      FERRY_RETURN_IF_ERROR(Leaf(t, p, prefix, src, dst, &leaf));
      r->differences += leaf.differences;
      for (auto& d : leaf.listed) {
        if (r->listed.size() < kListed) r->listed.push_back(std::move(d));
      }
      return Status::Ok();
    }
    std::map<std::string, Part> sa, sb;
    FERRY_RETURN_IF_ERROR(Parts(t, p, prefix, src, dst, &sa, &sb, prefix.size() + 2));
    std::vector<std::string> buckets;
    for (const auto& [k, v] : sa) buckets.push_back(k);
    for (const auto& [k, v] : sb) buckets.push_back(k);
    std::sort(buckets.begin(), buckets.end());
    buckets.erase(std::unique(buckets.begin(), buckets.end()), buckets.end());
    for (const auto& k : buckets) {
      if (sa[k] != sb[k]) FERRY_RETURN_IF_ERROR(Narrow(t, p, k, sa[k], sb[k], depth + 1, src, dst, r));
    }
    return Status::Ok();
  }

  std::string KeyHash(ir::Engine e, const std::string& key_text) {
    return ir::IsMysqlFamily(e) ? fmt::format("MD5({})", key_text) : fmt::format("md5({})", key_text);
  }

  std::string PrefixCondition(ir::Engine e, const std::string& key_text, const std::string& prefix) {
    if (prefix.empty()) return "";
    return fmt::format(" AND {} LIKE {}", KeyHash(e, key_text), QuoteLiteral(e, prefix + "%"));
  }

  // A query's rows, streamed; `binary` (TablePlan::src_binary) in the server's binary protocol
  // where it has one: a MySQL server then prints none of its numbers and dates, which was most
  // of what it spent sending them (docs/verify.md).
  static StatusOr<std::unique_ptr<RowCursor>> Rows(Connection& c, bool binary, const std::string& sql) {
    return binary ? c.OpenBinaryCursor(sql) : c.OpenCursor(sql, true);
  }

  // The SQL of a row's hash on a side hashed in SQL.
  static std::string RowHash(const TablePlan& t, bool source, ir::Engine e) {
    const std::string& record = source ? t.src_hash : t.dst_hash;
    return record.empty() ? RowHashSql(e, source ? t.src_row : t.dst_row) : record;
  }

  // A chunk's part on a side that scans the table (TablePlan::dst_scan): the first worker to
  // need the table's scan runs it, and the others wait for it.
  StatusOr<Part> ScannedPart(const TablePlan& t, bool source, Connection& c, const ChunkRecord& chunk) {
    TablePlan::Scanned& s = source ? t.src_scanned : t.dst_scanned;
    std::lock_guard<std::mutex> lock(s.mu);
    if (!s.done) {
      std::string where = source && !t.mapping->where.empty() ? "(" + t.mapping->where + ")" : "TRUE";
      {
        std::lock_guard<std::mutex> scans(scans_mu_);
        if (scans_cancelled_) return Status(Code::kCancelled, "stopped before the scan of " + t.name);
        scanning_.insert(&c);
      }
      auto q = c.Query(fmt::format("SELECT {}, COUNT(*), SUM({}) FROM {} WHERE {} GROUP BY 1",
                                   source ? t.src_scan : t.dst_scan, RowHash(t, source, c.engine()),
                                   source ? t.src_from : t.dst_from, where));
      {
        std::lock_guard<std::mutex> scans(scans_mu_);
        scanning_.erase(&c);
      }
      if (!q.ok()) return q.status();
      s.parts.assign(t.chunks.size(), Part{});
      for (const auto& r : q->rows) {
        if (!r[0]) continue;  // a NULL key (a destination kept as it was): in no chunk, as in their queries
        size_t i = static_cast<size_t>(std::stoll(*r[0]));
        if (i >= s.parts.size()) return Status(Code::kInternal, "a row outside every chunk of " + t.name);
        s.parts[i] = Part{std::stoll(r[1].value_or("0")), SumMod64(r[2])};
      }
      s.done = true;
    }
    for (size_t i = 0; i < t.chunks.size(); ++i) {
      if (t.chunks[i].no == chunk.no) return s.parts[i];
    }
    return Status(Code::kInternal, fmt::format("chunk {} of {} was not planned", chunk.no, t.name));
  }

  // Each side's parts (rows and hash sum) by the first `digits` hex digits of the key hash,
  // within `prefix`; digits 0: the whole chunk, as part "" (`chunk`: which one, for a side that
  // scans its table).
  Status Parts(const TablePlan& t, const Preds& p, const std::string& prefix, Connection& src, Connection& dst,
               std::map<std::string, Part>* a, std::map<std::string, Part>* b, size_t digits = 0,
               const ChunkRecord* chunk = nullptr) {
    auto run = [&, this](bool source) -> std::function<Status()> {
      return [&, source, this]() -> Status {
        Connection& c = source ? src : dst;
        ir::Engine e = c.engine();
        if (digits == 0 && prefix.empty() && chunk != nullptr && !(source ? t.src_scan : t.dst_scan).empty()) {
          auto part = ScannedPart(t, source, c, *chunk);
          if (!part.ok()) return part.status();
          (source ? *a : *b)[""] = *part;
          return Status::Ok();
        }
        const std::string& key = source ? t.src_key : t.dst_key;
        std::string bucket = digits == 0 ? "''" : fmt::format("LEFT({}, {})", KeyHash(e, key), digits);
        std::string where = (source ? p.src : p.dst) + PrefixCondition(e, key, prefix);
        std::string from = source ? t.src_from : t.dst_from;
        std::map<std::string, Part>* out = source ? a : b;
        if (source) throttle_.qps.Take(1);
        int64_t rows = 0;
        if (!(source ? t.src_client : t.dst_client)) {
          std::string sql = fmt::format("SELECT {}, COUNT(*), SUM({}) FROM {} WHERE {}{}", bucket, RowHash(t, source, e),
                                        from, where, digits == 0 ? "" : " GROUP BY 1");
          auto q = c.Query(sql);
          if (!q.ok()) return q.status();
          for (const auto& r : q->rows) {
            Part& part = (*out)[r[0].value_or("")];
            part.rows = std::stoll(r[1].value_or("0"));
            part.sum = SumMod64(r[2]);
            rows += part.rows;
          }
        } else {
          // The row's hash the other side's database computes, made here from each column's
          // canonical value (finished first where Ferry finishes it).
          std::vector<std::string> values;
          for (const auto& col : t.columns) values.push_back(source ? col.src : col.dst);
          auto cur = Rows(c, source ? t.src_binary : t.dst_binary, fmt::format("SELECT {}, {} FROM {} WHERE {}", bucket, fmt::join(values, ", "), from, where));
          if (!cur.ok()) return cur.status();
          std::string buf, last_bucket;
          ColumnsHash hash;
          Part* part_of = nullptr;
          while (true) {
            auto more = (*cur)->Next();
            if (!more.ok()) return more.status();
            if (!*more) break;
            for (size_t i = 0; i < t.columns.size(); ++i) {
              const CompareColumn& col = t.columns[i];
              if (col.hash_as != HashAs::kText) {  // a number, as it came or from its digits
                int64_t n;
                double d;
                if (col.hash_as == HashAs::kInteger && (*cur)->GetInteger(i + 1, &n)) hash.AddInteger(n);
                else if (col.hash_as == HashAs::kDouble && (*cur)->GetDouble(i + 1, &d)) hash.AddDouble(d);
                else hash.Add(col.hash_as, (*cur)->Get(i + 1));
                continue;
              }
              auto v = (*cur)->Get(i + 1);
              Finish f = source ? col.src_finish : col.dst_finish;
              if (v && f != Finish::kNone) v = FinishValue(f, *v, &buf);
              hash.Add(v);
            }
            // Rows come in any order of their buckets: the last one is kept at hand.
            auto bk = (*cur)->Get(0);
            std::string_view bucket_of_row = bk ? *bk : std::string_view();
            if (part_of == nullptr || bucket_of_row != last_bucket) {
              last_bucket.assign(bucket_of_row);
              part_of = &(*out)[last_bucket];
            }
            Part& part = *part_of;
            ++part.rows;
            part.sum += hash.Take();
            ++rows;
          }
        }
        if (source) {
          throttle_.rows.Take(static_cast<double>(rows));
          throttle_.bytes.Take(static_cast<double>(rows) * t.row_bytes);
        }
        (*out)[""];  // an empty chunk is a part of 0 rows
        return Status::Ok();
      };
    };
    std::function<Status()> fa = run(true), fb = run(false);
    return Both(fa, fb);
  }

  // ---- row by row ----------------------------------------------------------------------------

  // One side's rows in key-hash order; rows of one hash are read as a group.
  class Reader {
   public:
    Reader(std::unique_ptr<RowCursor> c, const TablePlan& t, bool source) : cur_(std::move(c)), t_(t), source_(source) {}
    Status Start() { return Advance(); }
    bool done() const { return done_; }
    const std::string& hash() const { return hash_; }
    // The rows of the current hash, as canonical values.
    StatusOr<std::vector<std::vector<Text>>> Group(int64_t* bytes) {
      std::vector<std::vector<Text>> rows;
      std::string h = hash_;
      while (!done_ && hash_ == h) {
        std::vector<Text> row;
        for (size_t i = 0; i < t_.columns.size(); ++i) {
          auto v = cur_->Get(i + 1);
          if (v) *bytes += static_cast<int64_t>(v->size());
          if (v) v = FinishValue(source_ ? t_.columns[i].src_finish : t_.columns[i].dst_finish, *v, &buf_);
          row.push_back(v ? Text(std::string(*v)) : Text());
        }
        rows.push_back(std::move(row));
        FERRY_RETURN_IF_ERROR(Advance());
      }
      return rows;
    }

   private:
    Status Advance() {
      auto more = cur_->Next();
      if (!more.ok()) return more.status();
      done_ = !*more;
      if (!done_) {
        auto h = cur_->Get(0);
        hash_ = h ? std::string(*h) : "";
      }
      return Status::Ok();
    }
    std::unique_ptr<RowCursor> cur_;
    const TablePlan& t_;
    bool source_;
    bool done_ = false;
    std::string hash_;
    std::string buf_;
  };

  std::string LeafSql(const TablePlan& t, const Preds& p, const std::string& prefix, bool source, ir::Engine e) {
    std::vector<std::string> cols;
    for (const auto& c : t.columns) cols.push_back(source ? c.src : c.dst);
    const std::string& key = source ? t.src_key : t.dst_key;
    std::string order = ir::IsMysqlFamily(e) ? "1" : KeyHash(e, key) + " COLLATE \"C\"";
    return fmt::format("SELECT {}, {} FROM {} WHERE {}{} ORDER BY {}", KeyHash(e, key), fmt::join(cols, ", "),
                       source ? t.src_from : t.dst_from, source ? p.src : p.dst, PrefixCondition(e, key, prefix), order);
  }

  static std::string Joined(const std::vector<Text>& row, const std::vector<size_t>* only = nullptr) {
    std::string s;
    if (only != nullptr) {
      for (size_t i : *only) AppendField(row[i], &s);
    } else {
      for (const auto& v : row) AppendField(v, &s);
    }
    return s;
  }

  static std::vector<std::pair<std::string, Text>> Values(const TablePlan& t, const std::vector<Text>& row, bool key_only) {
    std::vector<std::pair<std::string, Text>> out;
    if (key_only) {
      for (size_t i : t.key) out.emplace_back(t.columns[i].name, Display(row[i]));
    } else {
      for (size_t i = 0; i < row.size(); ++i) out.emplace_back(t.columns[i].name, Display(row[i]));
    }
    return out;
  }

  void Add(ChunkResult* r, Difference d) {
    ++r->differences;
    if (r->listed.size() < kListed) r->listed.push_back(std::move(d));
  }

  void OneSided(const TablePlan& t, const std::vector<Text>& row, const char* kind, ChunkResult* r) {
    Difference d;
    d.kind = kind;
    if (!t.key.empty()) d.key = Values(t, row, true);
    d.row = Values(t, row, false);
    d.hash = Sha256Hex(Joined(row), 32);
    Add(r, std::move(d));
  }

  // Compares the rows of one key hash: by key, or as multisets for a table without one.
  void Match(const TablePlan& t, const std::vector<std::vector<Text>>& a, const std::vector<std::vector<Text>>& b,
             ChunkResult* r) {
    if (t.key.empty()) {
      std::map<std::string, std::pair<int64_t, const std::vector<Text>*>> count;
      for (const auto& row : a) {
        auto& c = count[Joined(row)];
        ++c.first;
        c.second = &row;
      }
      for (const auto& row : b) {
        auto& c = count[Joined(row)];
        --c.first;
        c.second = &row;
      }
      for (const auto& [k, c] : count) {
        for (int64_t i = 0; i < std::abs(c.first); ++i) OneSided(t, *c.second, c.first > 0 ? "missing" : "extra", r);
      }
      return;
    }
    std::map<std::string, const std::vector<Text>*> dst;
    for (const auto& row : b) dst[Joined(row, &t.key)] = &row;
    for (const auto& row : a) {
      auto it = dst.find(Joined(row, &t.key));
      if (it == dst.end()) {
        OneSided(t, row, "missing", r);
        continue;
      }
      const std::vector<Text>& other = *it->second;
      Difference d;
      d.kind = "differs";
      for (size_t i = 0; i < row.size(); ++i) {
        if (row[i] != other[i]) d.columns.push_back({t.columns[i].name, Display(row[i]), Display(other[i])});
      }
      if (!d.columns.empty()) {
        d.key = Values(t, row, true);
        Add(r, std::move(d));
      }
      dst.erase(it);
    }
    for (const auto& [k, row] : dst) OneSided(t, *row, "extra", r);
  }

  Status Leaf(const TablePlan& t, const Preds& p, const std::string& prefix, Connection& src, Connection& dst,
              ChunkResult* r) {
    throttle_.qps.Take(1);
    auto ca = Rows(src, t.src_binary, LeafSql(t, p, prefix, true, src.engine()));
    if (!ca.ok()) return ca.status();
    auto cb = Rows(dst, t.dst_binary, LeafSql(t, p, prefix, false, dst.engine()));
    if (!cb.ok()) return cb.status();
    Reader a(std::move(ca).value(), t, true), b(std::move(cb).value(), t, false);
    FERRY_RETURN_IF_ERROR(a.Start());
    FERRY_RETURN_IF_ERROR(b.Start());
    int64_t bytes = 0, ignored = 0;
    while (!a.done() || !b.done()) {
      std::vector<std::vector<Text>> ga, gb;
      // The smaller hash first; both when equal. Hex digits order the same in both engines.
      bool take_a = !a.done() && (b.done() || a.hash() <= b.hash());
      bool take_b = !b.done() && (a.done() || b.hash() <= a.hash());
      if (take_a) {
        int64_t before = bytes;
        auto g = a.Group(&bytes);
        if (!g.ok()) return g.status();
        ga = std::move(g).value();
        r->src_rows += static_cast<int64_t>(ga.size());
        throttle_.rows.Take(static_cast<double>(ga.size()));
        throttle_.bytes.Take(static_cast<double>(bytes - before));
      }
      if (take_b) {
        auto g = b.Group(&ignored);
        if (!g.ok()) return g.status();
        gb = std::move(g).value();
        r->dst_rows += static_cast<int64_t>(gb.size());
      }
      Match(t, ga, gb, r);
    }
    return Status::Ok();
  }

  // ---- the report ----------------------------------------------------------------------------

  void Summarise(const std::vector<VerifyChunk>& chunks) {
    std::map<std::string, std::vector<const VerifyChunk*>> by_table;
    for (const auto& c : chunks) by_table[c.range.table].push_back(&c);
    for (const auto& p : tables_) {
      TableVerdict v;
      v.source = p->name;
      v.destination = p->mapping->dst_schema + "." + p->mapping->dst_table;
      v.loc = p->mapping->loc;
      if (!p->problem.empty()) {
        v.equal = false;
        v.problem = p->problem;
        report_.equal = false;
        report_.tables.push_back(std::move(v));
        continue;
      }
      std::vector<Difference> all;
      for (const VerifyChunk* c : by_table[p->name]) {
        ++v.chunks;
        v.source_rows += c->src_rows;
        v.destination_rows += c->dst_rows;
        if (c->state != "differs") continue;
        ++v.chunks_differ;
        nlohmann::json j = nlohmann::json::parse(c->result, nullptr, false);
        if (j.is_discarded()) continue;
        v.differences += j.value("differences", int64_t{0});
        for (const auto& d : j["listed"]) all.push_back(JsonDifference(d));
      }
      if (!p->key.empty()) Reconcile(&all, &v.differences);
      if (v.differences < static_cast<int64_t>(all.size())) v.differences = static_cast<int64_t>(all.size());
      for (auto& d : all) {
        if (v.listed.size() < kListed) v.listed.push_back(std::move(d));
      }
      // The rows read one by one decide: a chunk whose sums differed but whose rows all match
      // (a key placed in different chunks by the two sides' order) is equal.
      v.equal = v.differences == 0 && v.source_rows == v.destination_rows;
      report_.equal &= v.equal;
      report_.tables.push_back(std::move(v));
    }
  }

  // A key missing from one chunk and extra in another is the same row placed differently by
  // the two sides' key order: equal when its values are, else one differing row.
  static void Reconcile(std::vector<Difference>* all, int64_t* count) {
    std::map<std::string, size_t> missing;
    for (size_t i = 0; i < all->size(); ++i) {
      if ((*all)[i].kind == "missing") missing[PairsJson((*all)[i].key).dump()] = i;
    }
    std::vector<bool> drop(all->size(), false);
    for (size_t i = 0; i < all->size(); ++i) {
      Difference& x = (*all)[i];
      if (x.kind != "extra") continue;
      auto it = missing.find(PairsJson(x.key).dump());
      if (it == missing.end()) continue;
      Difference& m = (*all)[it->second];
      drop[i] = true;
      *count -= 1;
      if (m.hash == x.hash) {
        drop[it->second] = true;
        *count -= 1;
      } else {
        Difference d;
        d.kind = "differs";
        d.key = m.key;
        for (size_t c = 0; c < m.row.size() && c < x.row.size(); ++c) {
          if (m.row[c].second != x.row[c].second) d.columns.push_back({m.row[c].first, m.row[c].second, x.row[c].second});
        }
        m = std::move(d);
      }
      missing.erase(it);
    }
    std::vector<Difference> kept;
    for (size_t i = 0; i < all->size(); ++i) {
      if (!drop[i]) kept.push_back(std::move((*all)[i]));
    }
    *all = std::move(kept);
  }

  void Progress() {
    std::unique_lock<std::mutex> lock(mu_);
    while (!cv_.wait_for(lock, std::chrono::milliseconds(200), [this] { return finished_; })) {
      lock.unlock();
      if (StopAsked()) CancelScans();
      auto now = Clock::now();
      if (opt_.on_progress && now - last_progress_ >= std::chrono::seconds(1)) {
        last_progress_ = now;
        opt_.on_progress(done_.load(), total_, std::chrono::duration<double>(now - start_).count());
      }
      lock.lock();
    }
  }

  bool StopAsked() const { return opt_.stop != nullptr && opt_.stop->load(); }

  // A stop does not wait for the table scans under way (one reads up to a GiB): they are
  // cancelled, and their chunks stay to compare on the next run; none starts after.
  void CancelScans() {
    std::lock_guard<std::mutex> lock(scans_mu_);  // a connection stays while it is in scanning_
    if (scans_cancelled_) return;
    scans_cancelled_ = true;
    for (Connection* c : scanning_) {
      Status st = c->Cancel();
      if (!st.ok() && opt_.on_notice) opt_.on_notice("could not cancel a table scan under way: " + st.message());
    }
  }

  MigrationContext& ctx_;
  const ir::Migration& m_;
  const VerifyOptions& opt_;
  VerifyReport report_;
  std::vector<std::unique_ptr<TablePlan>> tables_;
  std::vector<Work> work_;
  std::atomic<size_t> next_{0};
  std::atomic<int> done_{0};
  int total_ = 0;
  std::mutex mu_;
  std::condition_variable cv_;
  bool finished_ = false, stopped_ = false;
  Status error_;
  Clock::time_point start_ = Clock::now(), last_progress_ = start_;
  FullThrottle throttle_;
  std::mutex scans_mu_;
  std::set<Connection*> scanning_;  // the connections running a table's scan (ScannedPart)
  bool scans_cancelled_ = false;
};

std::string Shown(const Text& t) { return t ? "'" + *t + "'" : "NULL"; }

std::string KeyText(const std::vector<std::pair<std::string, Text>>& key) {
  std::vector<std::string> parts;
  for (const auto& [k, v] : key) parts.push_back(fmt::format("{} = {}", k, Shown(v)));
  return fmt::format("{}", fmt::join(parts, ", "));
}

}  // namespace

bool VerifyReencodes(const Connection& postgres, const Connection& other) {
  if (postgres.engine() != ir::Engine::kPostgres) return false;
  const std::string& enc = postgres.server().encoding;
  if (enc.empty() || enc == "UTF8") return false;
  return other.engine() != ir::Engine::kPostgres || other.server().encoding != enc;
}

int VerifyPgMajor(const Connection& postgres) {
  int major = postgres.server().major;
  if (const char* env = std::getenv("FERRY_VERIFY_PG_MAJOR"); env != nullptr && std::atoi(env) > 0) {
    major = std::min(major, std::atoi(env));
  }
  return major;
}

StatusOr<VerifyReport> RunVerify(MigrationContext& ctx, const VerifyOptions& options) {
  return Verifier(ctx, options).Run();
}

nlohmann::json ToJson(const VerifyReport& r) {
  nlohmann::json j = {{"migration", r.migration}, {"mode", r.mode}, {"equal", r.equal}, {"resumed", r.resumed},
                      {"seconds", r.seconds}};
  j["tables"] = nlohmann::json::array();
  for (const auto& t : r.tables) {
    nlohmann::json x = {{"source", t.source},
                        {"destination", t.destination},
                        {"selected_at", t.loc},
                        {"equal", t.equal},
                        {"source_rows", t.source_rows},
                        {"destination_rows", t.destination_rows},
                        {"differences", t.differences},
                        {"chunks", t.chunks},
                        {"chunks_differ", t.chunks_differ}};
    if (!t.problem.empty()) x["problem"] = t.problem;
    x["listed"] = nlohmann::json::array();
    for (const auto& d : t.listed) {
      nlohmann::json y = {{"kind", d.kind}};
      nlohmann::json key = nlohmann::json::object();
      for (const auto& [k, v] : d.key) key[k] = TextJson(v);
      y["key"] = key;
      if (d.kind == "differs") {
        y["columns"] = nlohmann::json::array();
        for (const auto& c : d.columns) {
          y["columns"].push_back({{"column", c.name}, {"source", TextJson(c.source)}, {"destination", TextJson(c.destination)}});
        }
      } else {
        nlohmann::json row = nlohmann::json::object();
        for (const auto& [k, v] : d.row) row[k] = TextJson(v);
        y["row"] = row;
      }
      x["listed"].push_back(y);
    }
    j["tables"].push_back(x);
  }
  return j;
}

std::string RenderText(const VerifyReport& r, bool color) {
  auto paint = [&](const char* code, const std::string& s) { return color ? fmt::format("\033[{}m{}\033[0m", code, s) : s; };
  int differ = 0;
  for (const auto& t : r.tables) differ += t.equal ? 0 : 1;
  std::string out = fmt::format("verify {} ({}, {} table{}{}): {}\n", r.migration, r.mode, r.tables.size(),
                                r.tables.size() == 1 ? "" : "s", r.resumed ? ", resumed" : "",
                                differ == 0 ? paint("32", "equal")
                                            : paint("31", fmt::format("{} table{} differ{}", differ, differ == 1 ? "" : "s",
                                                                      differ == 1 ? "s" : "")));
  for (const auto& t : r.tables) {
    std::string names = t.source == t.destination ? t.source : t.source + " -> " + t.destination;
    if (!t.problem.empty()) {
      out += fmt::format("  {} {}: {} (selected at {})\n", paint("31", "DIFFERS"), names, t.problem, t.loc);
      continue;
    }
    if (t.equal) {
      out += fmt::format("  {}   {}: {} rows\n", paint("32", "equal"), names, t.source_rows);
      continue;
    }
    out += fmt::format("  {} {}: {} rows in the source, {} in the destination; {} row{} differ{}\n", paint("31", "DIFFERS"),
                       names, t.source_rows, t.destination_rows, t.differences, t.differences == 1 ? "" : "s",
                       t.differences == 1 ? "s" : "");
    for (const auto& d : t.listed) {
      std::string what = d.key.empty() ? "row (" + KeyText(d.row) + ")" : KeyText(d.key);
      if (d.kind == "missing") out += fmt::format("      missing  {}: in the source, not in the destination\n", what);
      else if (d.kind == "extra") out += fmt::format("      extra    {}: in the destination, not in the source\n", what);
      else {
        std::vector<std::string> cols;
        for (const auto& c : d.columns) cols.push_back(fmt::format("{} {} -> {}", c.name, Shown(c.source), Shown(c.destination)));
        out += fmt::format("      differs  {}: {}\n", what, fmt::join(cols, "; "));
      }
    }
    if (t.differences > static_cast<int64_t>(t.listed.size())) {
      out += fmt::format("      … and {} more (--format json lists up to {} a table)\n",
                         t.differences - static_cast<int64_t>(t.listed.size()), kListed);
    }
  }
  return out;
}

}  // namespace ferry::runtime
