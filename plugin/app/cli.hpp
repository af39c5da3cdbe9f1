#pragma once
// The command line: serve, check-config, --version. Returns the process exit code.

namespace alertbridge::app {

int runCli(int argc, char** argv);

}  // namespace alertbridge::app
