#pragma once
// Alert records packed with a zstd dictionary trained on the store's own records.
//
// A record is a few hundred bytes: alone it hardly compresses (zstd without a dictionary
// saved 14-19 % on the benchmark's and the week-a trace's records), and at tens of
// thousands of new alerts a second records were most of the bytes the log was written and
// synced with. The same label names, values and annotation texts recur across an estate's
// alerts, and a dictionary trained on them packs each record on its own to a fifth to an
// eighth (week-a: 333 to 73 bytes; the benchmark's: 375 to 48), while every row stays
// one alert's, as the checkpoint writes and deletes them.
//
// A packed record is kPackedRecord, the dictionary's id (unsigned LEB128), then a zstd frame
// made with that dictionary. The pipeline's own records begin with their format version,
// never kPackedRecord, so a stored record is one or the other by its first byte.

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace alertbridge::state {

inline constexpr unsigned char kPackedRecord = 0xD7;

// One trained dictionary, prepared for packing and for unpacking. Safe from any thread.
class RecordDictionary {
  public:
    // Null when `bytes` is not a dictionary zstd can load.
    static std::shared_ptr<const RecordDictionary> load(std::uint32_t id, std::string bytes);
    ~RecordDictionary();
    RecordDictionary(const RecordDictionary&) = delete;
    RecordDictionary& operator=(const RecordDictionary&) = delete;

    std::uint32_t id() const { return id_; }
    const std::string& bytes() const { return bytes_; }
    // The packed form, or nothing when packing would not make it smaller.
    std::optional<std::string> pack(std::string_view record) const;
    // The record as it was packed; nothing when `packed` is not a frame of this dictionary.
    std::optional<std::string> unpack(std::string_view packed) const;

  private:
    struct Impl;
    RecordDictionary(std::uint32_t id, std::string bytes, std::unique_ptr<Impl> impl);
    std::uint32_t id_;
    std::string bytes_;
    std::unique_ptr<Impl> impl_;
};

using RecordDictionaries = std::map<std::uint32_t, std::shared_ptr<const RecordDictionary>>;

bool isPackedRecord(std::string_view stored);
// The dictionary a packed record names; nothing when its header is damaged.
std::optional<std::uint32_t> packedRecordDictionary(std::string_view stored);
// A stored record as the pipeline reads it: unpacked with its dictionary, or as it is when
// it was never packed. Nothing when its dictionary is missing or the frame is damaged.
std::optional<std::string> unpackRecord(std::string_view stored, const RecordDictionaries& dicts);

// Trains a dictionary of at most `capacity` bytes on `samples`; nothing when zstd finds too
// little in common (or too few samples) to build one.
std::optional<std::string> trainRecordDictionary(const std::vector<std::string>& samples,
                                                 std::size_t capacity);

}  // namespace alertbridge::state
