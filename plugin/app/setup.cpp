#include "plugin/app/setup.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>

#include <date/tz.h>
#include <fmt/format.h>

#include "plugin/app/registry.hpp"
#include "plugin/config/loader.hpp"

namespace alertbridge::app {

std::shared_ptr<const email::RuleSet> compileEmailRules(const config::Config& cfg,
                                                        std::vector<config::ConfigError>& errors) {
    std::vector<email::RuleSource> user;
    for (std::size_t i = 0; i < cfg.email.rule_files.size(); ++i) {
        const auto& f = cfg.email.rule_files[i];
        std::ifstream in(f.value, std::ios::binary);
        if (!in) {
            errors.push_back(config::ConfigError{cfg.file, f.line,
                                                 fmt::format("email.rules[{}]", i),
                                                 fmt::format("cannot read {}", f.value)});
            continue;
        }
        std::stringstream ss;
        ss << in.rdbuf();
        user.push_back(email::RuleSource{f.value, ss.str()});
    }

    const auto& builtin = email::builtinRuleSources();
    std::vector<std::string> builtin_names;
    for (const auto& src : builtin) {
        if (auto name = email::checkPack(src, errors); !name.empty()) {
            builtin_names.push_back(std::move(name));
        }
    }
    std::vector<std::string> disabled;
    for (std::size_t i = 0; i < cfg.email.disabled_builtin_rules.size(); ++i) {
        const auto& d = cfg.email.disabled_builtin_rules[i];
        if (std::find(builtin_names.begin(), builtin_names.end(), d.value) == builtin_names.end()) {
            std::vector<std::string_view> names(builtin_names.begin(), builtin_names.end());
            auto hint = config::didYouMean(d.value, names);
            errors.push_back(config::ConfigError{
                cfg.file, d.line, fmt::format("email.disable_builtin_rules[{}]", i),
                hint.empty() ? fmt::format("no built-in rule pack is named \"{}\"", d.value)
                             : fmt::format("no built-in rule pack is named \"{}\" (did you "
                                           "mean \"{}\"?)",
                                           d.value, hint)});
            continue;
        }
        disabled.push_back(d.value);
    }

    email::RuleOptions options;
    try {
        options.timezone = date::locate_zone(cfg.global.timezone);
    } catch (const std::exception&) {
        options.timezone = nullptr;  // the loader has already reported it
    }
    options.generic_resolve_timeout = cfg.email.generic_resolve_timeout;
    std::vector<config::ConfigError> pack_errors;
    auto set = email::RuleSet::compile(user, builtin, disabled, options, pack_errors);
    // Built-in packs were compiled once above; their errors (a build defect) are there.
    for (auto& e : pack_errors) {
        bool dup = std::any_of(errors.begin(), errors.end(), [&](const config::ConfigError& x) {
            return x.file == e.file && x.line == e.line && x.message == e.message;
        });
        if (!dup) errors.push_back(std::move(e));
    }
    return set;
}

void checkRelabelScopes(const config::Config& cfg, const email::RuleSet& rules,
                        std::vector<config::ConfigError>& errors) {
    std::vector<std::string_view> input_ids;
    for (const auto& in : inputs()) input_ids.push_back(in.id);
    std::vector<std::string> pack_names = rules.names();
    pack_names.emplace_back("generic");
    std::vector<std::string_view> packs(pack_names.begin(), pack_names.end());
    auto check = [&](const config::Located& l, const std::string& path,
                     const std::vector<std::string_view>& known, std::string_view what) {
        if (std::find(known.begin(), known.end(), l.value) != known.end()) return;
        auto hint = config::didYouMean(l.value, known);
        std::string all;
        for (auto k : known) all += (all.empty() ? "" : ", ") + std::string(k);
        errors.push_back(config::ConfigError{
            cfg.file, l.line, path,
            hint.empty() ? fmt::format("no {} is named \"{}\" (known: {})", what, l.value, all)
                         : fmt::format("no {} is named \"{}\" (did you mean \"{}\"?)", what,
                                       l.value, hint)});
    };
    for (std::size_t i = 0; i < cfg.enrich.relabel_configs.size(); ++i) {
        const auto& r = cfg.enrich.relabel_configs[i];
        std::string p = fmt::format("enrich.relabel_configs[{}]", i);
        for (const auto& in : r.inputs) check(in, p + ".inputs", input_ids, "input");
        for (const auto& pack : r.email_rules) {
            check(pack, p + ".email_rules", packs, "email rule pack");
        }
    }
}

std::string calendarHorizonWarning(const calendar::Calendar& cal, core::TimePoint now) {
    auto left = (cal.lastDay() - cal.localDate(now)).count();
    std::string last = date::format("%F", cal.lastDay());
    if (left < 0) {
        return fmt::format(
            "calendar {} ended on {}: every answer is unknown; add the next "
            "year's data file and move valid_until",
            cal.name(), last);
    }
    if (left <= 30) {
        return fmt::format(
            "calendar {} ends on {} ({} days from now): after it every answer "
            "is unknown; add the next year's data file and move valid_until",
            cal.name(), last, left);
    }
    return "";
}

void checkCalendarHorizons(const Setup& s, core::TimePoint now,
                           std::vector<config::ConfigError>& warnings) {
    for (const auto& cal : s.calendars) {
        if (auto w = calendarHorizonWarning(*cal, now); !w.empty()) {
            warnings.push_back(config::ConfigError{s.config ? s.config->file : "",
                                                   cal->definition().line, "calendars", w});
        }
    }
}

namespace {

Setup finish(config::LoadResult r) {
    Setup s;
    s.errors = std::move(r.errors);
    s.warnings = std::move(r.warnings);
    if (!r.config) return s;
    for (const auto& def : r.config->calendars) {
        auto cal = calendar::Calendar::build(def);
        if (!cal) {
            s.errors.push_back(
                config::ConfigError{r.config->file, def.line, "calendars", cal.error()});
            continue;
        }
        s.calendars.push_back(std::move(*cal));
    }
    // Intervals that ask a calendar hold it.
    for (auto& ti : r.config->time_intervals) {
        for (auto& spec : ti.specs) {
            for (const auto& cal : s.calendars) {
                if (cal->name() == spec.calendar) spec.cal = cal;
            }
        }
    }
    auto rules = compileEmailRules(*r.config, s.errors);
    if (rules) checkRelabelScopes(*r.config, *rules, s.errors);
    if (!s.errors.empty()) return s;
    s.config = std::move(r.config);
    s.email_rules = std::move(rules);
    return s;
}

}  // namespace

Setup loadSetup(const std::string& file) { return finish(config::loadConfig(file)); }

Setup setupFromString(const std::string& yaml, const std::string& file_name) {
    return finish(config::loadConfigFromString(yaml, file_name));
}

}  // namespace alertbridge::app
