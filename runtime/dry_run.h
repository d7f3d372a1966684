// `ferry plan PLAN --dry-run`: both catalogs read (read-only), the DAG with one node per
// table, the mapping of every column with the rule that decided it, the problems, and the
// DDL the schema stages would run, as a diff against what the destination has now.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "runtime/context.h"

namespace ferry::runtime {

std::string RenderDryRunText(const MigrationContext& ctx, bool color);
nlohmann::json DryRunJson(const MigrationContext& ctx);

// True when the two type texts name the same type in `engine` (varchar(5) and
// character varying(5) on PostgreSQL; int and int(11) on the MySQL family).
bool SameType(ir::Engine engine, const std::string& a, const std::string& b);

}  // namespace ferry::runtime
