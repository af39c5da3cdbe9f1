#pragma once
// What changed between two versions of a config file, section by section, for live reload:
// which sections that only a restart applies were edited, and which outputs are unchanged
// (their delivery workers and connections are kept). Compared on the parsed YAML, so
// comments, key order within a mapping's text and formatting do not count as changes.

#include <map>
#include <string>
#include <vector>

namespace alertbridge::config {

// The top-level sections a running daemon cannot change: its listeners, its store, its
// identity and its intake (they hold sockets, files and threads made at start).
inline const std::vector<std::string>& restartOnlySections() {
    static const std::vector<std::string> kSections{"global", "listen",  "http_auth",
                                                    "intake", "storage", "email"};
    return kSections;
}

// The restart-only sections whose content differs between the two texts.
std::vector<std::string> changedRestartSections(const std::string& before,
                                                const std::string& after);

// Each output by name (names are unique across types) -> its type and YAML, canonically
// dumped; an output whose entry is unchanged can keep its worker.
std::map<std::string, std::string> outputEntries(const std::string& text);

// The canonical YAML of one top-level section ("" when absent or the text does not parse).
std::string sectionText(const std::string& text, const std::string& section);

}  // namespace alertbridge::config
