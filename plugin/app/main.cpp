#include "plugin/app/cli.hpp"

int main(int argc, char** argv) { return alertbridge::app::runCli(argc, argv); }
