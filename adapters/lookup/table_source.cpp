#include "adapters/lookup/table_source.hpp"

#include <curl/curl.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "adapters/lookup/table_reader.hpp"
#include "alertbridge/version.hpp"

namespace alertbridge::lookup {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t kMaxBody = std::size_t{512} * 1024 * 1024;

struct Fetched {
    std::string body;
    std::string content_type;
};

std::size_t appendBody(char* data, std::size_t size, std::size_t n, void* user) {
    auto* out = static_cast<std::string*>(user);
    if (out->size() + size * n > kMaxBody) return 0;  // aborts the transfer
    out->append(data, size * n);
    return size * n;
}

// One GET of a table source. Errors never carry the credentials.
core::Result<Fetched> httpGet(const config::TableSource& src) {
    static const CURLcode kInit = curl_global_init(CURL_GLOBAL_DEFAULT);
    if (kInit != CURLE_OK) return core::Error{"libcurl failed to initialise"};
    CURL* curl = curl_easy_init();
    if (curl == nullptr) return core::Error{"libcurl failed to start a transfer"};
    Fetched f;
    std::array<char, CURL_ERROR_SIZE> err{};
    curl_slist* headers = nullptr;
    headers = curl_slist_append(
        headers, "Accept: text/csv, application/json, application/yaml;q=0.9, */*;q=0.5");
    std::string bearer;
    if (!src.auth.bearer_token.empty()) {
        bearer = "Authorization: Bearer " + src.auth.bearer_token;
        headers = curl_slist_append(headers, bearer.c_str());
    }
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(src.timeout).count();
    std::string agent = std::string("alertbridge/") + kVersion;
    curl_easy_setopt(curl, CURLOPT_URL, src.url.c_str());
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, agent.c_str());
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, appendBody);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &f.body);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, err.data());
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(ms));
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(ms));
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, "");  // gzip if the server offers it
    if (src.auth.basic_auth) {
        curl_easy_setopt(curl, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
        curl_easy_setopt(curl, CURLOPT_USERNAME, src.auth.basic_auth->username.c_str());
        curl_easy_setopt(curl, CURLOPT_PASSWORD, src.auth.basic_auth->password.c_str());
    }
    if (!src.ca_file.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, src.ca_file.c_str());
    CURLcode rc = curl_easy_perform(curl);
    long status = 0;
    char* ct = nullptr;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(curl, CURLINFO_CONTENT_TYPE, &ct);
    if (ct != nullptr) f.content_type = ct;
    curl_easy_cleanup(curl);
    curl_slist_free_all(headers);
    if (rc == CURLE_WRITE_ERROR) {
        return core::Error{fmt::format("GET {}: the body is over {} MiB", src.url, kMaxBody >> 20)};
    }
    if (rc != CURLE_OK) {
        return core::Error{fmt::format("GET {}: {}", src.url,
                                       err[0] != '\0' ? err.data() : curl_easy_strerror(rc))};
    }
    if (status < 200 || status > 299) {
        std::string excerpt = f.body.substr(0, 200);
        std::replace(excerpt.begin(), excerpt.end(), '\n', ' ');
        return core::Error{fmt::format("GET {}: HTTP {}{}{}", src.url, status,
                                       excerpt.empty() ? "" : ": ", excerpt)};
    }
    return f;
}

core::Result<std::string> readFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return core::Error{fmt::format("{}: cannot read the file", path)};
    std::stringstream ss;
    ss << in.rdbuf();
    if (in.bad()) return core::Error{fmt::format("{}: read error", path)};
    return ss.str();
}

config::TableFormat formatOf(const config::TableSource& src, std::string_view content_type) {
    if (src.format != config::TableFormat::kAuto) return src.format;
    return detectFormat(src.file.empty() ? src.url : src.file, content_type);
}

core::Result<std::shared_ptr<const pipeline::LookupTable>> build(const config::TableConfig& t,
                                                                 std::string_view bytes,
                                                                 config::TableFormat format,
                                                                 std::string_view origin) {
    auto data = readTable(bytes, format, origin);
    if (!data) return core::Error{data.error()};
    if (data->rows.size() < t.source.min_rows) {
        return core::Error{fmt::format(
            "{}: {} rows, fewer than source.min_rows ({}); a truncated export or an empty "
            "answer is not taken",
            origin, data->rows.size(), t.source.min_rows)};
    }
    return pipeline::LookupTable::build(t, *data, origin);
}

}  // namespace

core::Result<std::shared_ptr<const pipeline::LookupTable>> loadTableOnce(
    const config::TableConfig& table) {
    const auto& src = table.source;
    if (!src.file.empty()) {
        auto bytes = readFile(src.file);
        if (!bytes) return core::Error{bytes.error()};
        return build(table, *bytes, formatOf(src, ""), src.file);
    }
    auto f = httpGet(src);
    if (!f) return core::Error{f.error()};
    return build(table, f->body, formatOf(src, f->content_type), src.url);
}

TableSources::TableSources(const config::Config& config,
                           std::shared_ptr<pipeline::TableSnapshots> snapshots,
                           telemetry::Metrics& metrics, const core::Clock& clock)
    : config_(config), snapshots_(std::move(snapshots)), clock_(clock) {
    for (const auto& t : config_.enrich.tables) {
        slots_.push_back(Slot{&t, &metrics.enrichTable(t.name), {}, {}});
    }
}

TableSources::~TableSources() { stop(); }

std::string TableSources::cachePath(const config::TableConfig& t) const {
    return (fs::path(config_.global.data_dir) / "tables" /
            (t.name + "." + std::string(config::tableFormatName(formatOf(t.source, "")))))
        .string();
}

std::vector<std::string> TableSources::loadInitial() {
    std::vector<std::string> errors;
    for (std::size_t i = 0; i < slots_.size(); ++i) {
        const auto& t = *slots_[i].cfg;
        if (!t.source.file.empty()) {
            if (auto s = refreshFile(i); !s) errors.push_back(s.error());
            continue;
        }
        // A url table starts from its cached copy, if any, until the first fetch.
        for (auto format :
             {config::TableFormat::kCsv, config::TableFormat::kJson, config::TableFormat::kYaml}) {
            std::string path = (fs::path(config_.global.data_dir) / "tables" /
                                (t.name + "." + std::string(config::tableFormatName(format))))
                                   .string();
            std::error_code ec;
            if (!fs::exists(path, ec)) continue;
            auto bytes = readFile(path);
            if (bytes && install(i, *bytes, format, path)) {
                spdlog::warn(
                    "Lookup table starts from its cached copy until its source answers. "
                    "table={} url={} cache={}",
                    t.name, t.source.url, path);
            }
            break;
        }
        if (!snapshots_->get(i)) {
            spdlog::warn(
                "Lookup table is not loaded yet; alerts get its default labels until its source "
                "answers. table={} url={}",
                t.name, t.source.url);
        }
    }
    return errors;
}

core::Status TableSources::failed(std::size_t i, std::string_view what, const std::string& error) {
    slots_[i].metrics->reloads_failed->Increment();
    auto current = snapshots_->get(i);
    spdlog::error(
        "Lookup table {}; the last good snapshot stays in use. table={} rows_in_use={} "
        "error=\"{}\"",
        what, slots_[i].cfg->name, current ? current->rows() : 0, error);
    return core::Error{error};
}

core::Status TableSources::install(std::size_t i, std::string_view bytes,
                                   config::TableFormat format, std::string_view origin) {
    const auto& t = *slots_[i].cfg;
    const auto& m = *slots_[i].metrics;
    auto table = build(t, bytes, format, origin);
    if (!table) return failed(i, "failed to load", table.error());
    for (const auto& w : (*table)->warnings()) {
        spdlog::warn("Lookup table has a duplicate key. table={} detail=\"{}\"", t.name, w);
    }
    m.rows->Set(static_cast<double>((*table)->rows()));
    m.memory_bytes->Set(static_cast<double>((*table)->memoryBytes()));
    m.loaded->Set(1);
    m.last_reload->Set(std::chrono::duration<double>(clock_.now().time_since_epoch()).count());
    m.reloads_ok->Increment();
    spdlog::info("Lookup table loaded. table={} rows={} memory_bytes={} origin={}", t.name,
                 (*table)->rows(), (*table)->memoryBytes(), origin);
    snapshots_->publish(i, std::move(*table));
    return core::okStatus();
}

core::Status TableSources::refresh(std::size_t i) {
    return slots_[i].cfg->source.file.empty() ? refreshUrl(i) : refreshFile(i);
}

core::Status TableSources::refreshFile(std::size_t i) {
    auto& slot = slots_[i];
    const std::string& path = slot.cfg->source.file;
    auto stamp_of = [&](FileStamp& out) {
        struct stat st {};
        if (::stat(path.c_str(), &st) != 0) return false;
        out = FileStamp{
            static_cast<long long>(st.st_mtim.tv_sec) * 1000000000LL + st.st_mtim.tv_nsec,
            static_cast<long long>(st.st_size), static_cast<unsigned long long>(st.st_ino)};
        return true;
    };
    FileStamp stamp;
    if (!stamp_of(stamp)) {
        FileStamp missing{-2, -2, 0};
        std::string err = fmt::format("{}: cannot read the file: {}", path, std::strerror(errno));
        if (slot.seen == missing) return core::Error{err};  // said already
        slot.seen = missing;
        return failed(i, "file is gone or unreadable", err);
    }
    if (stamp == slot.seen) return core::okStatus();
    auto bytes = readFile(path);
    FileStamp after;
    if (!bytes || !stamp_of(after) || !(after == stamp)) {
        // Changed while we read it (a writer that does not rename): try again next tick.
        return bytes ? core::okStatus() : core::Status(core::Error{bytes.error()});
    }
    slot.seen = stamp;
    return install(i, *bytes, formatOf(slot.cfg->source, ""), path);
}

core::Status TableSources::refreshUrl(std::size_t i) {
    const auto& t = *slots_[i].cfg;
    auto f = httpGet(t.source);
    if (!f) return failed(i, "source did not answer", f.error());
    auto format = formatOf(t.source, f->content_type);
    auto s = install(i, f->body, format, t.source.url);
    if (!s) return s;
    // Keep a copy for a restart while the source is down (written whole, then renamed).
    std::error_code ec;
    fs::path dir = fs::path(config_.global.data_dir) / "tables";
    fs::create_directories(dir, ec);
    fs::path final_path = dir / (t.name + "." + std::string(config::tableFormatName(format)));
    fs::path tmp = final_path;
    tmp += ".tmp";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        out.write(f->body.data(), static_cast<std::streamsize>(f->body.size()));
        out.close();
        if (!out) {
            spdlog::warn("Lookup table cache could not be written. table={} path={}", t.name,
                         tmp.string());
            return s;
        }
    }
    fs::rename(tmp, final_path, ec);
    if (ec) {
        spdlog::warn("Lookup table cache could not be written. table={} path={} error=\"{}\"",
                     t.name, final_path.string(), ec.message());
    }
    return s;
}

void TableSources::start() {
    for (std::size_t i = 0; i < slots_.size(); ++i) {
        slots_[i].thread = std::thread([this, i] { run(i); });
    }
}

void TableSources::stop() {
    {
        std::lock_guard lock(mu_);
        stopping_ = true;
    }
    cv_.notify_all();
    for (auto& s : slots_) {
        if (s.thread.joinable()) s.thread.join();
    }
}

void TableSources::run(std::size_t i) {
    const auto& src = slots_[i].cfg->source;
    bool url = src.file.empty();
    core::Duration retry = std::chrono::seconds(10);
    core::Duration wait = url ? core::Duration::zero() : config_.enrich.file_check_interval;
    for (;;) {
        {
            std::unique_lock lock(mu_);
            auto until = clock_.now() + wait;
            while (!stopping_ && clock_.now() < until) clock_.waitUntil(cv_, lock, until);
            if (stopping_) return;
        }
        auto s = refresh(i);
        if (!url) continue;
        if (s) {
            wait = src.interval;
            retry = std::chrono::seconds(10);
        } else {
            wait = std::min(retry, src.interval);
            retry = std::min(retry * 2, src.interval);
        }
    }
}

}  // namespace alertbridge::lookup
