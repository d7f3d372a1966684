// The commands that talk to databases: precheck, plan --dry-run, apply. Each compiles the
// plan first; a plan with errors never connects anywhere.
#pragma once

#include <string>

namespace ferry::cli {

struct RunOptions {
  std::string plan;
  std::string format = "text";  // text or json
  std::string migration;        // empty: every migration of the plan, in order
  bool color = false;
  bool tty = false;             // progress redrawn in place
  std::string metrics;          // apply --metrics ADDR
  std::string verify_mode;      // verify --mode: overrides the plan's verify { mode }
};

int Precheck(const RunOptions& options);
int DryRun(const RunOptions& options);
int Apply(const RunOptions& options);
int Status(const RunOptions& options);
int Verify(const RunOptions& options);

}  // namespace ferry::cli
