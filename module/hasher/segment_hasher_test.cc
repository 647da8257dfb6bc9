#include "module/hasher/segment_hasher.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <string>

#include "third_party/cmocka.hpp"

namespace {

std::string temp_path(const char* name) {
  const char* dir = getenv("TEST_TMPDIR");
  return std::string(dir ? dir : "/tmp") + "/" + name;
}

void write_file(const std::string& path, const std::string& bytes, time_t mtime) {
  FILE* f = fopen(path.c_str(), "wb");
  assert_non_null(f);
  fwrite(bytes.data(), 1, bytes.size(), f);
  fclose(f);
  struct timespec times[2] = {{mtime, 0}, {mtime, 0}};
  utimensat(AT_FDCWD, path.c_str(), times, 0);
}

int64_t now_ms() { return static_cast<int64_t>(time(nullptr)) * 1000; }

void hashes_whole_file(void**) {
  std::string path = temp_path("whole.ts");
  write_file(path, "abc", time(nullptr) - 10);
  p2p::segment_hash_job job;
  job.path = path;
  job.now_unix_ms = now_ms();
  assert_true(p2p::stat_segment(&job));
  p2p::hash_segment(&job);
  assert_int_equal(job.result, p2p::segment_hash_result::ok);
  assert_string_equal(p2p::to_hex(job.digest).c_str(),
                      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  assert_true(job.fresh);
}

void hashes_byte_range(void**) {
  std::string path = temp_path("range.ts");
  write_file(path, "xxabcyy", time(nullptr) - 10);
  p2p::segment_hash_job job;
  job.path = path;
  job.offset = 2;
  job.length = 3;
  job.now_unix_ms = now_ms();
  assert_true(p2p::stat_segment(&job));
  p2p::hash_segment(&job);
  assert_int_equal(job.result, p2p::segment_hash_result::ok);
  assert_string_equal(p2p::to_hex(job.digest).c_str(),
                      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

void range_outside_file_is_missing(void**) {
  std::string path = temp_path("short.ts");
  write_file(path, "abc", time(nullptr) - 10);
  p2p::segment_hash_job job;
  job.path = path;
  job.offset = 2;
  job.length = 5;
  job.now_unix_ms = now_ms();
  assert_false(p2p::stat_segment(&job));
  assert_int_equal(job.result, p2p::segment_hash_result::missing);
  job.offset = 10;
  job.length = UINT64_MAX;
  assert_false(p2p::stat_segment(&job));
}

void recent_file_is_unsettled(void**) {
  std::string path = temp_path("live.ts");
  write_file(path, "abc", time(nullptr));
  p2p::segment_hash_job job;
  job.path = path;
  job.settle_ms = 1000;
  job.now_unix_ms = now_ms();
  assert_false(p2p::stat_segment(&job));
  assert_int_equal(job.result, p2p::segment_hash_result::unsettled);
  write_file(path, "abc", time(nullptr) + 3600);  // mtime in the future
  assert_false(p2p::stat_segment(&job));
}

void file_changed_between_stat_and_hash(void**) {
  std::string path = temp_path("growing.ts");
  write_file(path, "abc", time(nullptr) - 10);
  p2p::segment_hash_job job;
  job.path = path;
  job.now_unix_ms = now_ms();
  assert_true(p2p::stat_segment(&job));
  write_file(path, "abcdef", time(nullptr) - 10);  // the writer appended
  p2p::hash_segment(&job);
  assert_int_equal(job.result, p2p::segment_hash_result::changed);
  assert_false(job.fresh);
}

void missing_file_and_directory(void**) {
  p2p::segment_hash_job job;
  job.path = temp_path("does-not-exist.ts");
  job.now_unix_ms = now_ms();
  assert_false(p2p::stat_segment(&job));
  assert_int_equal(job.result, p2p::segment_hash_result::missing);
  job.path = temp_path("");
  assert_false(p2p::stat_segment(&job));
  assert_int_equal(job.result, p2p::segment_hash_result::missing);
}

}  // namespace

int main() {
  const CMUnitTest tests[] = {
      cmocka_unit_test(hashes_whole_file),
      cmocka_unit_test(hashes_byte_range),
      cmocka_unit_test(range_outside_file_is_missing),
      cmocka_unit_test(recent_file_is_unsettled),
      cmocka_unit_test(file_changed_between_stat_and_hash),
      cmocka_unit_test(missing_file_and_directory),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
