// Email parse throughput: every message of a corpus through MIME decoding (GMime and our
// header decoder) and the rule packs (RE2 and templates), on one thread, as the SMTP
// intake does per message. Reports messages/s and MB/s as the median of several rounds.
//
// Usage: email_parse_bench [--seconds 2] [--rounds 5] DIR...   (every *.eml below DIR)

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <date/tz.h>

#include "adapters/email/mime_text.hpp"
#include "adapters/email/rule_pack.hpp"

using namespace alertbridge;

int main(int argc, char** argv) {
    double seconds = 2;
    int rounds = 5;
    std::vector<std::string> messages;
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        if (arg == "--seconds" && i + 1 < argc) {
            seconds = std::stod(argv[++i]);
        } else if (arg == "--rounds" && i + 1 < argc) {
            rounds = std::stoi(argv[++i]);
        } else {
            for (const auto& e : std::filesystem::recursive_directory_iterator(arg)) {
                if (e.path().extension() != ".eml") continue;
                std::ifstream in(e.path(), std::ios::binary);
                std::stringstream ss;
                ss << in.rdbuf();
                messages.push_back(ss.str());
            }
        }
    }
    if (messages.empty()) {
        std::cerr << "usage: email_parse_bench [--seconds S] [--rounds N] DIR...\n";
        return 2;
    }
    std::vector<config::ConfigError> errors;
    auto rules =
        email::RuleSet::compile({}, email::builtinRuleSources(), {},
                                email::RuleOptions{date::locate_zone("Asia/Shanghai")}, errors);
    if (!errors.empty()) {
        std::cerr << errors.front().format() << "\n";
        return 1;
    }
    std::size_t bytes = 0, generic = 0;
    auto now = std::chrono::system_clock::now();
    for (const auto& m : messages) {
        bytes += m.size();
        auto mail = email::parseMail(m).value();
        if (rules->apply(mail, "", now).rule == "generic") ++generic;
    }
    std::vector<double> rates;
    for (int r = 0; r < rounds; ++r) {
        std::size_t n = 0;
        auto start = std::chrono::steady_clock::now();
        auto until = start + std::chrono::duration<double>(seconds);
        while (std::chrono::steady_clock::now() < until) {
            for (const auto& m : messages) {
                auto mail = email::parseMail(m);
                auto result = rules->apply(*mail, "", now);
                n += result.alert.labels.size() > 0 ? 1 : 0;
            }
        }
        double took =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        rates.push_back(static_cast<double>(n) / took);
    }
    std::sort(rates.begin(), rates.end());
    double median = rates[rates.size() / 2];
    double avg_bytes = static_cast<double>(bytes) / static_cast<double>(messages.size());
    std::cout << "{\"messages\": " << messages.size() << ", \"generic\": " << generic
              << ", \"rounds\": " << rounds
              << ", \"messages_per_second\": " << static_cast<long long>(median)
              << ", \"mb_per_second\": " << median * avg_bytes / 1e6
              << ", \"min\": " << static_cast<long long>(rates.front())
              << ", \"max\": " << static_cast<long long>(rates.back()) << "}\n";
    return generic == 0 ? 0 : 1;
}
