// Fuzz target: one email through everything that reads untrusted mail: the MIME parser
// (GMime), our RFC 2047 decoder, the charset decision (libuchardet), the key/value
// extractor of text and of HTML (libxml2), every built-in rule pack and the generic rule,
// the status and severity words, and the vendor time and duration parsers. Invariants: the rules
// always yield an alert with a rule name, valid UTF-8 is not required of the input, and nothing
// crashes or leaks.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include <date/tz.h>

#include "adapters/email/body_charset.hpp"
#include "adapters/email/header_decode.hpp"
#include "adapters/email/html_text.hpp"
#include "adapters/email/mime_text.hpp"
#include "adapters/email/rule_pack.hpp"
#include "adapters/email/status_words.hpp"
#include "adapters/email/vendor_time.hpp"

using namespace alertbridge;

namespace {

const email::RuleSet& rules() {
    static const auto set = [] {
        std::vector<config::ConfigError> errors;
        auto s =
            email::RuleSet::compile({}, email::builtinRuleSources(), {},
                                    email::RuleOptions{date::locate_zone("Asia/Shanghai")}, errors);
        if (!errors.empty()) __builtin_trap();
        return s;
    }();
    return *set;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view input(reinterpret_cast<const char*>(data), size);
    auto now = std::chrono::system_clock::now();
    auto mail = email::parseMail(input);
    email::MailText text = mail ? std::move(mail).value() : email::MailText{};
    auto result = rules().apply(text, "fuzz@example.com", now);
    if (result.rule.empty() || result.alert.labels.empty()) __builtin_trap();
    if (result.alert.ends_at && *result.alert.ends_at < result.alert.starts_at) __builtin_trap();
    (void)email::decodeHeader(input.substr(0, 2048));
    email::MailPairs pairs;
    (void)email::readHtml(input, &pairs);
    email::addTextPairs(input, pairs);
    for (const auto& p : pairs.all()) {
        if (pairs.find(email::normalizeKey(p.key)) == nullptr) __builtin_trap();
    }
    auto decoded = email::decodeText(input, "gb2312", true);
    if (!email::validUtf8(decoded.text)) __builtin_trap();
    (void)email::findStatus(input.substr(0, 512), email::commonStatusWords());
    (void)email::findSeverity(input.substr(0, 512), email::commonSeverityWords());
    (void)email::withoutStatusWords(input.substr(0, 512), email::commonStatusWords());
    auto head = input.substr(0, 96);
    (void)email::parseVendorTime(head, email::ZoneHint{480, nullptr, false});
    (void)email::parseVendorTime(head, "%d/%m/%Y %H:%M:%S %z", email::ZoneHint{});
    (void)email::parseVendorDuration(head);
    return 0;
}
