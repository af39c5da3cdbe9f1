#include "plugin/state/record_packer.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "../test_util.hpp"
#include "store_test_fixture.hpp"

namespace alertbridge::state {
namespace {

// A record-like string: an estate's label names and recurring values, with the parts that
// differ from alert to alert (instance, sequence numbers).
std::string record(int i, const char* family = "node") {
    static const char* services[] = {"ctp-frontend", "risk-engine", "clearing", "quote-gw"};
    return fmt::format(
        "\x01\x02alertmanager_api alertname={}DiskWillFill instance=10.{}.{}.{}:9100 job={} "
        "service={} severity=warning env=prod summary=Disk on 10.{}.{}.{} fills within 4h "
        "description=Filesystem /data on the host is predicted to be full, sequence {}",
        family, i % 7, (i / 7) % 250, i % 250, family, services[i % 4], i % 7, (i / 7) % 250,
        i % 250, i);
}

std::vector<RecordWrite> writes(int from, int n, const char* family = "node") {
    std::vector<RecordWrite> out;
    out.reserve(n);
    for (int i = from; i < from + n; ++i) {
        out.push_back(RecordWrite{i + 1, 0, static_cast<core::Fingerprint>(i), record(i, family)});
    }
    return out;
}

RecordPacker::Run inPlace() {
    return [](const std::function<void()>& job) { job(); };
}

TEST(RecordCodec, PacksSmallAndReadsBackWithItsDictionaryOnly) {
    std::vector<std::string> samples;
    samples.reserve(2000);
    for (int i = 0; i < 2000; ++i) samples.push_back(record(i));
    auto bytes = trainRecordDictionary(samples, std::size_t{16} * 1024);
    ASSERT_TRUE(bytes.has_value());
    auto dict = RecordDictionary::load(3, *bytes);
    ASSERT_NE(dict, nullptr);

    const std::string raw = record(123456);
    auto packed = dict->pack(raw);
    ASSERT_TRUE(packed.has_value());
    EXPECT_LT(packed->size() * 2, raw.size()) << "a record of a known shape packs to under half";
    EXPECT_TRUE(isPackedRecord(*packed));
    EXPECT_EQ(packedRecordDictionary(*packed), 3u);
    EXPECT_EQ(unpackRecord(*packed, {{3, dict}}), raw);

    // Without its dictionary, or damaged, it does not read; a record never packed reads as
    // it is.
    EXPECT_FALSE(unpackRecord(*packed, {}).has_value());
    auto other = RecordDictionary::load(4, *bytes);
    EXPECT_FALSE(other->unpack(*packed).has_value()) << "another dictionary's id";
    std::string damaged = *packed;
    damaged.resize(damaged.size() - 3);
    EXPECT_FALSE(unpackRecord(damaged, {{3, dict}}).has_value());
    EXPECT_FALSE(packedRecordDictionary(std::string("\xD7\xFF\xFF\xFF\xFF\xFF\xFF", 7)));
    EXPECT_EQ(unpackRecord(raw, {}), raw);
    EXPECT_EQ(RecordDictionary::load(1, "not a dictionary at all"), nullptr);
}

// What a packer installed, in order.
struct Installed {
    std::vector<std::shared_ptr<const RecordDictionary>> dicts;
    RecordPacker::Install fn() {
        return [this](const std::shared_ptr<const RecordDictionary>& d, core::TimePoint) {
            dicts.push_back(d);
        };
    }
};

TEST(RecordPacker, StoresTheFirstRecordsAsTheyAreThenPacksWithADictionaryTrainedOnThem) {
    Installed installed;
    RecordPacker packer(RecordPacker::Options{}, installed.fn(), inPlace());
    const auto now = testing::at("2026-12-08T01:00:00Z");
    auto first = writes(0, 2000);
    packer.pack(first, now);
    for (const auto& w : first) EXPECT_FALSE(isPackedRecord(w.record));
    ASSERT_EQ(installed.dicts.size(), 1u) << "trained on the first 2,000 and installed";
    auto dict = installed.dicts[0];
    EXPECT_EQ(dict->id(), 1u);

    auto next = writes(2000, 300);
    std::size_t raw = 0, stored = 0;
    for (const auto& w : next) raw += w.record.size();
    packer.pack(next, now);
    for (int i = 0; i < 300; ++i) {
        ASSERT_TRUE(isPackedRecord(next[i].record));
        EXPECT_EQ(unpackRecord(next[i].record, {{1, dict}}), record(2000 + i));
        stored += next[i].record.size();
    }
    EXPECT_LT(stored * 2, raw) << "records of a known shape pack to under half";
    auto s = packer.stats();
    EXPECT_EQ(s.records, 2300u);
    EXPECT_EQ(s.dictionary, 1u);
    EXPECT_EQ(s.raw_bytes - s.stored_bytes, raw - stored) << "the first 2,000 stored as given";
    auto later = writes(2300, 10);
    packer.pack(later, now);
    EXPECT_EQ(installed.dicts.size(), 1u) << "a dictionary is installed once";
}

TEST(RecordPacker, TrainsAgainWhenTheEstateChangesAndTheDictionaryIsOld) {
    RecordPacker::Options o;
    o.samples = 500;
    o.window = 200;
    o.retrain_after = std::chrono::hours(24);
    Installed installed;
    RecordPacker packer(o, installed.fn(), inPlace());
    auto t = testing::at("2026-12-08T01:00:00Z");
    auto w = writes(0, 500);
    packer.pack(w, t);
    ASSERT_EQ(installed.dicts.size(), 1u);
    w = writes(500, 400);  // the reference window, then one as good
    packer.pack(w, t);

    // Other records, packed far worse: while the dictionary is young nothing changes.
    auto strange = [](int from) {
        std::vector<RecordWrite> out;
        for (int i = from; i < from + 200; ++i) {
            std::string r;
            for (int k = 0; k < 12; ++k) r += fmt::format("{:x}-{}|", (i * 2654435761U) ^ k, k * i);
            out.push_back(RecordWrite{i + 1, 0, static_cast<core::Fingerprint>(i), r});
        }
        return out;
    };
    w = strange(10000);
    packer.pack(w, t + std::chrono::hours(1));
    w = strange(20000);
    packer.pack(w, t + std::chrono::hours(1));
    EXPECT_EQ(installed.dicts.size(), 1u);

    // A day on, a window that packs badly starts sampling; 500 samples later a new one is
    // trained and installed, and packing goes on with it.
    t += std::chrono::hours(25);
    for (int round = 0; round < 4 && installed.dicts.size() < 2; ++round) {
        w = strange(30000 + round * 200);
        packer.pack(w, t);
    }
    ASSERT_EQ(installed.dicts.size(), 2u);
    EXPECT_EQ(installed.dicts[1]->id(), 2u);
    EXPECT_EQ(packer.stats().dictionary, 2u);
}

TEST_F(StoreTest, RecordsArePackedOnceADictionaryIsTrainedAndReadBackAsGiven) {
    store_.reset();
    options_.train_records = inPlace();
    open();
    std::vector<std::string> given;
    for (int from = 0; from < 4096; from += 256) {
        StateDelta d;
        d.upserts = writes(from, 256);
        for (const auto& w : d.upserts) given.push_back(w.record);
        apply(std::move(d));
    }
    EXPECT_EQ(scalar("SELECT count(*) FROM record_dicts"), 1);
    EXPECT_EQ(scalar("SELECT count(*) FROM alerts WHERE substr(record, 1, 1) = x'D7'"),
              4096 - 2048);

    store_.reset();
    open();  // the dictionary is read back; packing goes on with it
    StateDelta d;
    d.upserts = writes(4096, 10);
    for (const auto& w : d.upserts) given.push_back(w.record);
    apply(std::move(d));
    EXPECT_EQ(scalar("SELECT count(*) FROM alerts WHERE substr(record, 1, 1) = x'D7'"), 2058);

    std::vector<std::string> read;
    auto reader = store_->openReader();
    ASSERT_TRUE(reader->forEachAlert(
        [&](long long, core::Fingerprint, std::string_view r) { read.emplace_back(r); }));
    EXPECT_EQ(read, given);
}

TEST_F(StoreTest, DictionariesNoRecordNamesAreDroppedWhenTheStoreOpens) {
    std::vector<std::string> samples;
    samples.reserve(2000);
    for (int i = 0; i < 2000; ++i) samples.push_back(record(i));
    auto bytes = trainRecordDictionary(samples, std::size_t{16} * 1024).value();
    auto used = RecordDictionary::load(2, bytes);
    StateDelta d;
    d.upserts = writes(0, 3);
    d.upserts[1].record = used->pack(d.upserts[1].record).value();
    apply(std::move(d));
    store_.reset();
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(options_.path.c_str(), &db), SQLITE_OK);
    for (int id : {1, 2, 3, 4}) {
        sqlite3_stmt* st = nullptr;
        sqlite3_prepare_v2(db, "INSERT INTO record_dicts(id, dict, made_at) VALUES(?1, ?2, 0)", -1,
                           &st, nullptr);
        sqlite3_bind_int(st, 1, id);
        sqlite3_bind_blob(st, 2, bytes.data(), static_cast<int>(bytes.size()), SQLITE_STATIC);
        EXPECT_EQ(sqlite3_step(st), SQLITE_DONE);
        sqlite3_finalize(st);
    }
    sqlite3_close(db);

    open();
    // 2 is named by a record, 4 is the newest (what packing goes on with).
    EXPECT_EQ(scalar("SELECT count(*) FROM record_dicts WHERE id IN (2, 4)"), 2);
    EXPECT_EQ(scalar("SELECT count(*) FROM record_dicts"), 2);
    std::size_t n = 0;
    auto reader = store_->openReader();
    ASSERT_TRUE(reader->forEachAlert([&](long long, core::Fingerprint, std::string_view r) {
        EXPECT_EQ(r, record(static_cast<int>(n)));
        ++n;
    }));
    EXPECT_EQ(n, 3u);
}

// A dictionary row that does not load (damaged) keeps its id: the next one is trained above
// it, rather than failing its insert for ever, and records go on being packed and read.
TEST_F(StoreTest, ADamagedDictionaryRowIsPassedOverAndItsIdNotGivenAgain) {
    store_.reset();
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(options_.path.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db,
                           "INSERT INTO record_dicts(id, dict, made_at) "
                           "VALUES(5, x'0102030405', 0)",
                           nullptr, nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(db);
    options_.train_records = inPlace();
    open();
    std::vector<std::string> given;
    for (int from = 0; from < 2560; from += 256) {
        StateDelta d;
        d.upserts = writes(from, 256);
        for (const auto& w : d.upserts) given.push_back(w.record);
        apply(std::move(d));
    }
    EXPECT_EQ(scalar("SELECT max(id) FROM record_dicts"), 6);
    EXPECT_EQ(scalar("SELECT count(*) FROM alerts WHERE substr(record, 1, 1) = x'D7'"), 512);
    EXPECT_EQ(store_->recordPacking().dictionary, 6u);
    store_.reset();
    open();
    std::vector<std::string> read;
    auto reader = store_->openReader();
    ASSERT_TRUE(reader->forEachAlert(
        [&](long long, core::Fingerprint, std::string_view r) { read.emplace_back(r); }));
    EXPECT_EQ(read, given);
}

}  // namespace
}  // namespace alertbridge::state
