#include "plugin/config/config_diff.hpp"

#include <yaml-cpp/yaml.h>

namespace alertbridge::config {
namespace {

// Keys in sorted order, so two mappings that differ only in key order compare equal.
void canonical(const YAML::Node& n, YAML::Emitter& out) {
    switch (n.Type()) {
        case YAML::NodeType::Map: {
            std::map<std::string, YAML::Node> sorted;
            for (const auto& kv : n) sorted.emplace(YAML::Dump(kv.first), kv.second);
            out << YAML::BeginMap;
            for (const auto& [k, v] : sorted) {
                out << YAML::Key << k << YAML::Value;
                canonical(v, out);
            }
            out << YAML::EndMap;
            return;
        }
        case YAML::NodeType::Sequence:
            out << YAML::BeginSeq;
            for (const auto& item : n) canonical(item, out);
            out << YAML::EndSeq;
            return;
        case YAML::NodeType::Scalar:
            out << n.Scalar();
            return;
        default:
            out << YAML::Null;
            return;
    }
}

std::string canonical(const YAML::Node& n) {
    YAML::Emitter out;
    canonical(n, out);
    return out.c_str();
}

YAML::Node parse(const std::string& text) {
    try {
        return YAML::Load(text);
    } catch (const YAML::Exception&) {
        return YAML::Node();
    }
}

}  // namespace

std::string sectionText(const std::string& text, const std::string& section) {
    auto root = parse(text);
    if (!root.IsMap()) return "";
    auto n = root[section];
    return n ? canonical(n) : "";
}

std::vector<std::string> changedRestartSections(const std::string& before,
                                                const std::string& after) {
    std::vector<std::string> changed;
    for (const auto& s : restartOnlySections()) {
        if (sectionText(before, s) != sectionText(after, s)) changed.push_back(s);
    }
    return changed;
}

std::map<std::string, std::string> outputEntries(const std::string& text) {
    std::map<std::string, std::string> out;
    auto root = parse(text);
    if (!root.IsMap() || !root["outputs"] || !root["outputs"].IsMap()) return out;
    for (const auto& type : root["outputs"]) {
        if (!type.second.IsSequence()) continue;
        for (const auto& item : type.second) {
            if (!item.IsMap() || !item["name"] || !item["name"].IsScalar()) continue;
            out[item["name"].Scalar()] = type.first.Scalar() + "\n" + canonical(item);
        }
    }
    return out;
}

}  // namespace alertbridge::config
