// `accounts = true`: the source's database accounts and roles, their password hashes and
// their grants, recreated in the destination (MySQL family to MySQL family), as DTS's
// "migrate accounts" does.
//
// Grants follow the plan's mapping: a grant on a renamed schema, table or column is
// renamed with it; a grant on something the plan does not migrate is left out and
// reported. System accounts, and the accounts Ferry itself connects as, are never touched.
// Password hashes travel as hashes (IDENTIFIED BY PASSWORD '…'); they are masked in every
// output (DdlStatement::shown).
#pragma once

#include "runtime/context.h"

namespace ferry::runtime {

// Reads the source's accounts and appends their statements to ctx.ddl (schema.post).
// Problems (a privilege missing to read them, a grant left out) go to ctx.ddl.problems.
void AddAccountDdl(MigrationContext& ctx);

}  // namespace ferry::runtime
