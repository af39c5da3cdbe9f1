#include "adapters/lookup/table_reader.hpp"

#include <csv.h>

#include <algorithm>
#include <map>

#include <fmt/format.h>
#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <yaml-cpp/yaml.h>

#include "plugin/core/text.hpp"

namespace alertbridge::lookup {
namespace {

using pipeline::TableData;

std::string_view trim(std::string_view s) { return core::trim(s, " \t\r"); }

struct CsvState {
    TableData* data;
    std::vector<std::string> row;
    int line = 0;      // the line being fed
    int row_line = 0;  // the line the current row started on
    bool header = true;
};

void onField(void* s, std::size_t len, void* user) {
    auto* st = static_cast<CsvState*>(user);
    st->row.emplace_back(s == nullptr ? "" : std::string(static_cast<const char*>(s), len));
}

void onRow(int, void* user) {
    auto* st = static_cast<CsvState*>(user);
    if (st->header) {
        st->header = false;
        for (auto& c : st->row) st->data->columns.emplace_back(trim(c));
    } else {
        st->data->rows.push_back(std::move(st->row));
        st->data->lines.push_back(st->row_line);
    }
    st->row.clear();
}

core::Result<TableData> readCsv(std::string_view bytes, std::string_view origin) {
    if (bytes.starts_with("\xEF\xBB\xBF")) bytes.remove_prefix(3);
    TableData data;
    CsvState st{&data, {}, 0, 0, true};
    csv_parser p{};
    if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL) != 0) {
        return core::Error{"cannot start the CSV parser"};
    }
    std::size_t pos = 0;
    while (pos < bytes.size()) {
        std::size_t nl = bytes.find('\n', pos);
        std::size_t end = nl == std::string_view::npos ? bytes.size() : nl + 1;
        std::string_view line = bytes.substr(pos, end - pos);
        pos = end;
        ++st.line;
        // Comments and blank lines only between rows (p.pstate 0: no row begun), so a '#'
        // inside a quoted multi-line field is data.
        std::string_view t = trim(line);
        if (p.pstate == 0 && (t.empty() || t == "\n" || t.front() == '#')) continue;
        if (p.pstate == 0) st.row_line = st.line;
        if (csv_parse(&p, line.data(), line.size(), onField, onRow, &st) != line.size()) {
            std::string err = csv_strerror(csv_error(&p));
            csv_free(&p);
            return core::Error{fmt::format(
                "{}:{}: {} (a quote inside an unquoted field, or text after a closing quote)",
                origin, st.line, err)};
        }
    }
    if (csv_fini(&p, onField, onRow, &st) != 0) {
        csv_free(&p);
        return core::Error{
            fmt::format("{}:{}: the file ends inside a quoted field", origin, st.row_line)};
    }
    csv_free(&p);
    if (data.columns.empty()) return core::Error{fmt::format("{}: no header row", origin)};
    for (std::size_t i = 0; i < data.columns.size(); ++i) {
        if (data.columns[i].empty()) {
            return core::Error{fmt::format("{}:1: column {} has no name", origin, i + 1)};
        }
        for (std::size_t j = 0; j < i; ++j) {
            if (data.columns[j] == data.columns[i]) {
                return core::Error{
                    fmt::format("{}:1: column \"{}\" appears twice", origin, data.columns[i])};
            }
        }
    }
    return data;
}

// Rows given as maps: collects the columns, then lays the cells out in column order.
class MapRows {
  public:
    std::size_t column(const std::string& name) {
        auto [it, added] = index_.try_emplace(name, data_.columns.size());
        if (added) data_.columns.push_back(name);
        return it->second;
    }
    void addRow(std::vector<std::pair<std::size_t, std::string>> cells, int line) {
        pending_.push_back(std::move(cells));
        data_.lines.push_back(line);
    }
    TableData finish() {
        for (auto& cells : pending_) {
            std::vector<std::string> row(data_.columns.size());
            for (auto& [col, v] : cells) row[col] = std::move(v);
            data_.rows.push_back(std::move(row));
        }
        return std::move(data_);
    }

  private:
    TableData data_;
    std::map<std::string, std::size_t> index_;
    std::vector<std::vector<std::pair<std::size_t, std::string>>> pending_;
};

core::Result<TableData> readYaml(std::string_view bytes, std::string_view origin) {
    YAML::Node root;
    try {
        root = YAML::Load(std::string(bytes));
    } catch (const YAML::Exception& e) {
        return core::Error{fmt::format("{}:{}: {}", origin, e.mark.line + 1, e.msg)};
    }
    if (!root.IsSequence()) {
        return core::Error{
            fmt::format("{}:{}: expected a list of rows (maps)", origin, root.Mark().line + 1)};
    }
    MapRows rows;
    for (const auto& row : root) {
        int line = row.Mark().line + 1;
        if (!row.IsMap()) {
            return core::Error{
                fmt::format("{}:{}: expected a row (a map of column: value)", origin, line)};
        }
        std::vector<std::pair<std::size_t, std::string>> cells;
        for (auto it = row.begin(); it != row.end(); ++it) {
            if (!it->second.IsScalar() && !it->second.IsNull()) {
                return core::Error{fmt::format("{}:{}: column \"{}\" must be a single value",
                                               origin, it->second.Mark().line + 1,
                                               it->first.as<std::string>(""))};
            }
            cells.emplace_back(rows.column(it->first.as<std::string>("")),
                               it->second.IsNull() ? "" : it->second.Scalar());
        }
        rows.addRow(std::move(cells), line);
    }
    return rows.finish();
}

int lineAt(std::string_view bytes, std::size_t offset) {
    offset = std::min(offset, bytes.size());
    return 1 + static_cast<int>(
                   std::count(bytes.begin(), bytes.begin() + static_cast<long>(offset), '\n'));
}

core::Result<TableData> readJson(std::string_view bytes, std::string_view origin) {
    rapidjson::Document doc;
    doc.Parse(bytes.data(), bytes.size());
    if (doc.HasParseError()) {
        return core::Error{fmt::format("{}:{}: {}", origin, lineAt(bytes, doc.GetErrorOffset()),
                                       rapidjson::GetParseError_En(doc.GetParseError()))};
    }
    const rapidjson::Value* rows_v = &doc;
    if (doc.IsObject()) {
        rows_v = nullptr;
        for (const char* key : {"data", "items", "rows", "results"}) {
            auto it = doc.FindMember(key);
            if (it != doc.MemberEnd() && it->value.IsArray()) {
                rows_v = &it->value;
                break;
            }
        }
    }
    if (rows_v == nullptr || !rows_v->IsArray()) {
        return core::Error{fmt::format(
            "{}: expected an array of objects, or an object with one under \"data\", \"items\", "
            "\"rows\" or \"results\"",
            origin)};
    }
    MapRows rows;
    std::size_t n = 0;
    for (const auto& row : rows_v->GetArray()) {
        ++n;
        if (!row.IsObject()) {
            return core::Error{fmt::format("{}: row {} is not an object", origin, n)};
        }
        std::vector<std::pair<std::size_t, std::string>> cells;
        for (const auto& m : row.GetObject()) {
            std::string v;
            const auto& val = m.value;
            if (val.IsString()) {
                v.assign(val.GetString(), val.GetStringLength());
            } else if (val.IsBool()) {
                v = val.GetBool() ? "true" : "false";
            } else if (val.IsInt64()) {
                v = std::to_string(val.GetInt64());
            } else if (val.IsUint64()) {
                v = std::to_string(val.GetUint64());
            } else if (val.IsNumber()) {
                v = fmt::format("{}", val.GetDouble());
            } else if (!val.IsNull()) {
                return core::Error{fmt::format("{}: row {}: \"{}\" must be a single value", origin,
                                               n, m.name.GetString())};
            }
            cells.emplace_back(
                rows.column(std::string(m.name.GetString(), m.name.GetStringLength())),
                std::move(v));
        }
        rows.addRow(std::move(cells), 0);
    }
    return rows.finish();
}

}  // namespace

config::TableFormat detectFormat(std::string_view name, std::string_view content_type) {
    std::string ct = core::asciiLower(content_type);
    if (ct.find("csv") != std::string::npos) return config::TableFormat::kCsv;
    if (ct.find("json") != std::string::npos) return config::TableFormat::kJson;
    if (ct.find("yaml") != std::string::npos) return config::TableFormat::kYaml;
    std::string n = core::asciiLower(name);
    if (auto q = n.find_first_of("?#"); q != std::string::npos) n.resize(q);
    if (n.ends_with(".csv")) return config::TableFormat::kCsv;
    if (n.ends_with(".json")) return config::TableFormat::kJson;
    if (n.ends_with(".yaml") || n.ends_with(".yml")) return config::TableFormat::kYaml;
    return config::TableFormat::kAuto;
}

core::Result<TableData> readTable(std::string_view bytes, config::TableFormat format,
                                  std::string_view origin) {
    switch (format) {
        case config::TableFormat::kCsv:
            return readCsv(bytes, origin);
        case config::TableFormat::kYaml:
            return readYaml(bytes, origin);
        case config::TableFormat::kJson:
            return readJson(bytes, origin);
        case config::TableFormat::kAuto:
            break;
    }
    return core::Error{fmt::format(
        "{}: cannot tell the format (csv, yaml or json) from the name; set source.format", origin)};
}

}  // namespace alertbridge::lookup
