// Lower: adds each migration's DAG of stages to a checked plan (DESIGN.md "The DAG").
//
//   precheck → capture → schema.pre(t) → load(t) → schema.post(t) → incremental → verify
//
// One schema.pre/load/schema.post chain per selected object rule (globs as written: the dry
// run expands them against the live catalog), only for the migration types staged. Stage
// ids are assigned in a fixed order, so the same plan always lowers to the same DAG. Only
// call it on a plan whose analysis reported no errors.
#pragma once

#include "compiler/ir.h"

namespace ferry {

void Lower(ir::Plan& plan);

// The object a rule selects, as "schema.table" with its rename: "shop.orders -> shop_v2.orders_2024".
std::string DescribeObject(const ir::SchemaRule& schema, const ir::TableRule* table);

}  // namespace ferry
