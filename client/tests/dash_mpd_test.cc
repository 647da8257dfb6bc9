#include "client/dash_mpd.h"

#include <random>
#include <string>

#include "client/xml_tree.h"
#include "third_party/cmocka.hpp"

namespace {

using namespace p2p;

const std::string kA(64, 'a');
const std::string kB(64, 'b');
const std::string kC(64, 'c');

void template_number_static_with_hints(void**) {
  const std::string mpd =
      "<?xml version=\"1.0\"?>\n<!-- comment -->\n"
      "<MPD xmlns=\"urn:mpeg:dash:schema:mpd:2011\" type=\"static\" "
      "mediaPresentationDuration=\"PT0H0M10.5S\">\n"
      " <BaseURL>http://cdn.example/content/</BaseURL>\n"
      " <Period id=\"p0\">\n"
      "  <BaseURL>video/</BaseURL>\n"
      "  <AdaptationSet mimeType=\"video/mp4\">\n"
      "   <SupplementalProperty schemeIdUri=\"urn:p2p:session:2026\" "
      "value=\"content-id=movie%3B42;tracker=https://e/p2p/tracker;credential=a%3Db\"/>\n"
      "   <SegmentTemplate timescale=\"1000\" duration=\"4000\" startNumber=\"5\" "
      "initialization=\"$RepresentationID$/init.mp4\" "
      "media=\"$RepresentationID$/seg-$Number%04d$-$Bandwidth$.m4s\"/>\n"
      "   <Representation id=\"v1\" bandwidth=\"500000\" width=\"640\" height=\"360\">\n"
      "    <SupplementalProperty schemeIdUri=\"urn:p2p:swarm:2026\" value=\"SWARM1\"/>\n"
      "    <p2p:SegmentHashes xmlns:p2p=\"urn:p2p:2026\"><p2p:H init=\"1\" sha256=\"" +
      kA + "\"/><p2p:H n=\"6\" sha256=\"" + kB +
      "\"/></p2p:SegmentHashes>\n"
      "   </Representation>\n"
      "   <Representation id=\"v2\" "
      "bandwidth=\"900000\"><BaseURL>/abs/</BaseURL></Representation>\n"
      "  </AdaptationSet>\n"
      " </Period>\n"
      "</MPD>\n";
  dash_mpd out;
  assert_int_equal(dash_parse(mpd, "http://o/x/manifest.mpd", {}, {}, &out), manifest_status::ok);
  assert_false(out.dynamic);
  assert_string_equal(out.hints.content_id.c_str(), "movie;42");
  assert_string_equal(out.hints.tracker.c_str(), "https://e/p2p/tracker");
  assert_string_equal(out.hints.credential.c_str(), "a=b");
  assert_int_equal(out.periods.size(), 1);
  const auto& set = out.periods[0].adaptation_sets[0];
  assert_string_equal(set.content_type.c_str(), "video");
  assert_int_equal(set.representations.size(), 2);
  const auto& v1 = set.representations[0];
  assert_string_equal(v1.swarm_id.c_str(), "SWARM1");
  assert_int_equal(v1.items.size(), 4);  // init + ceil(10.5 / 4) = 3 segments
  assert_true(v1.items[0].kind == media_item_kind::init);
  assert_string_equal(v1.items[0].url.c_str(), "http://cdn.example/content/video/v1/init.mp4");
  assert_true(v1.items[0].has_hash);
  assert_string_equal(v1.items[1].url.c_str(),
                      "http://cdn.example/content/video/v1/seg-0005-500000.m4s");
  assert_false(v1.items[1].has_hash);
  assert_int_equal(v1.items[2].sequence, 6);
  assert_true(v1.items[2].has_hash);
  assert_int_equal(v1.items[2].hash[0], 0xbb);
  assert_true(v1.items[3].start > 7.99 && v1.items[3].start < 8.01);
  const auto& v2 = set.representations[1];
  assert_string_equal(v2.items[1].url.c_str(), "http://cdn.example/abs/v2/seg-0005-900000.m4s");
}

void timeline_with_repeat_and_time(void**) {
  const std::string mpd =
      "<MPD xmlns=\"urn:mpeg:dash:schema:mpd:2011\" mediaPresentationDuration=\"PT20S\">"
      "<Period duration=\"PT20S\"><AdaptationSet contentType=\"audio\">"
      "<SegmentTemplate timescale=\"10\" media=\"a/$Time$.m4s\" initialization=\"a/i.mp4\">"
      "<SegmentTimeline><S t=\"100\" d=\"40\" r=\"1\"/><S d=\"20\"/><S t=\"200\" d=\"50\" "
      "r=\"-1\"/></SegmentTimeline></SegmentTemplate>"
      "<Representation id=\"a\" bandwidth=\"64000\">"
      "<p2p:SegmentHashes xmlns:p2p=\"urn:p2p:2026\"><p2p:H n=\"2\" t=\"140\" sha256=\"" +
      kC + "\"/><p2p:H n=\"3\" t=\"999\" sha256=\"" + kA +
      "\"/></p2p:SegmentHashes>"
      "</Representation></AdaptationSet></Period></MPD>";
  dash_mpd out;
  assert_int_equal(dash_parse(mpd, "http://o/m.mpd", {}, {}, &out), manifest_status::ok);
  const auto& items = out.periods[0].adaptation_sets[0].representations[0].items;
  // init, 100, 140, 180, then from 200 in steps of 50 up to 200 (period end) -> 200,250,...
  assert_string_equal(items[1].url.c_str(), "http://o/a/100.m4s");
  assert_string_equal(items[2].url.c_str(), "http://o/a/140.m4s");
  assert_true(items[2].has_hash);   // n and t match
  assert_false(items[3].has_hash);  // n matches, t does not
  assert_string_equal(items[3].url.c_str(), "http://o/a/180.m4s");
  assert_string_equal(items[4].url.c_str(), "http://o/a/200.m4s");
  assert_int_equal(items.size(), 1 + 3 + 0 + 1 + 0);
  (void)items;
}

void segment_list_with_ranges(void**) {
  const std::string mpd =
      "<mpd:MPD xmlns:mpd=\"urn:mpeg:dash:schema:mpd:2011\" mediaPresentationDuration=\"PT4S\">"
      "<mpd:Period><mpd:AdaptationSet><mpd:Representation id=\"r\" bandwidth=\"1\">"
      "<mpd:BaseURL>file.mp4</mpd:BaseURL>"
      "<p2p:SegmentHashes xmlns:p2p=\"urn:p2p:2026\"><p2p:H i=\"1\" sha256=\"" +
      kA +
      "\"/></p2p:SegmentHashes>"
      "<mpd:SegmentList timescale=\"1\" duration=\"2\">"
      "<mpd:Initialization sourceURL=\"file.mp4\" range=\"0-99\"/>"
      "<mpd:SegmentURL mediaRange=\"100-199\"/><mpd:SegmentURL mediaRange=\"200-349\"/>"
      "</mpd:SegmentList></mpd:Representation></mpd:AdaptationSet></mpd:Period></mpd:MPD>";
  dash_mpd out;
  assert_int_equal(dash_parse(mpd, "http://o/d/m.mpd", {}, {}, &out), manifest_status::ok);
  const auto& items = out.periods[0].adaptation_sets[0].representations[0].items;
  assert_int_equal(items.size(), 3);
  assert_int_equal(items[0].range_length, 100);
  assert_string_equal(items[1].url.c_str(), "http://o/d/file.mp4");
  assert_int_equal(items[2].range_offset, 200);
  assert_int_equal(items[2].range_length, 150);
  assert_false(items[1].has_hash);
  assert_true(items[2].has_hash);
}

void dynamic_template_uses_clock(void**) {
  const std::string mpd =
      "<MPD type=\"dynamic\" availabilityStartTime=\"2026-01-01T00:00:00Z\" "
      "timeShiftBufferDepth=\"PT10S\"><Period start=\"PT0S\"><AdaptationSet>"
      "<Representation id=\"r\" bandwidth=\"1\"><SegmentTemplate duration=\"2\" "
      "media=\"s$Number$.m4s\"/></Representation></AdaptationSet></Period></MPD>";
  int64_t ast = 0;
  assert_true(dash_parse_datetime("2026-01-01T00:00:00Z", &ast));
  assert_int_equal(ast, 1767225600000LL);
  dash_mpd out;
  assert_int_equal(dash_parse(mpd, "http://o/m.mpd", {}, {}, &out), manifest_status::ok);
  assert_int_equal(out.periods[0].adaptation_sets[0].representations[0].items.size(), 0);
  dash_options options;
  options.now_unix_ms = ast + 61000;  // 30 complete segments, window of 5
  assert_int_equal(dash_parse(mpd, "http://o/m.mpd", {}, options, &out), manifest_status::ok);
  const auto& items = out.periods[0].adaptation_sets[0].representations[0].items;
  assert_int_equal(items.size(), 5);
  assert_string_equal(items.back().url.c_str(), "http://o/s30.m4s");
}

void durations(void**) {
  double s = 0;
  assert_true(dash_parse_duration("PT1H2M3.5S", &s));
  assert_true(s > 3723.4 && s < 3723.6);
  assert_true(dash_parse_duration("P1DT1S", &s));
  assert_true(s == 86401);
  assert_false(dash_parse_duration("P1Y", &s));
  assert_false(dash_parse_duration("P1M", &s));
  assert_false(dash_parse_duration("PT", &s));
  assert_false(dash_parse_duration("PT1..2S", &s));
  assert_false(dash_parse_duration("-PT1S", &s));
  assert_false(dash_parse_duration("T1S", &s));
}

void hostile_mpds(void**) {
  dash_mpd out;
  const std::string base = "http://o/m.mpd";
  manifest_limits limits;
  assert_int_equal(dash_parse("", base, limits, {}, &out), manifest_status::malformed);
  assert_int_equal(dash_parse("<MPD>", base, limits, {}, &out), manifest_status::malformed);
  assert_int_equal(dash_parse("<MPD></mpd>", base, limits, {}, &out), manifest_status::malformed);
  assert_int_equal(dash_parse("<!DOCTYPE x [<!ENTITY a \"b\">]><MPD/>", base, limits, {}, &out),
                   manifest_status::unsupported);
  assert_int_equal(dash_parse("<MPD a=\"&bogus;\"/>", base, limits, {}, &out),
                   manifest_status::malformed);
  assert_int_equal(dash_parse("<MPD a=\"1\" a=\"2\"/>", base, limits, {}, &out),
                   manifest_status::malformed);
  assert_int_equal(dash_parse("<x:MPD/>", base, limits, {}, &out), manifest_status::malformed);
  assert_int_equal(dash_parse("<NotMPD/>", base, limits, {}, &out), manifest_status::malformed);
  assert_int_equal(dash_parse("<MPD/><MPD/>", base, limits, {}, &out), manifest_status::malformed);
  assert_int_equal(
      dash_parse("<MPD mediaPresentationDuration=\"P1Y\"><Period/></MPD>", base, limits, {}, &out),
      manifest_status::unsupported);
  std::string deep = "<MPD>";
  for (int i = 0; i < 100; ++i) deep += "<a>";
  assert_int_equal(dash_parse(deep, base, limits, {}, &out), manifest_status::too_large);
  // A timeline repeat that would expand to billions of segments.
  const std::string bomb =
      "<MPD><Period><AdaptationSet><Representation id=\"r\"><SegmentTemplate media=\"$Number$\">"
      "<SegmentTimeline><S t=\"0\" d=\"1\" r=\"999999999999\"/></SegmentTimeline>"
      "</SegmentTemplate></Representation></AdaptationSet></Period></MPD>";
  assert_int_equal(dash_parse(bomb, base, limits, {}, &out), manifest_status::too_large);
  const std::string tiny_duration =
      "<MPD mediaPresentationDuration=\"PT100000000S\"><Period><AdaptationSet><Representation "
      "id=\"r\"><SegmentTemplate media=\"$Number$\" duration=\"1\" timescale=\"1000\"/>"
      "</Representation></AdaptationSet></Period></MPD>";
  assert_int_equal(dash_parse(tiny_duration, base, limits, {}, &out), manifest_status::too_large);
  const std::string sub =
      "<MPD mediaPresentationDuration=\"PT4S\"><Period><AdaptationSet><Representation "
      "id=\"r\"><SegmentTemplate media=\"$SubNumber$\" duration=\"1\"/>"
      "</Representation></AdaptationSet></Period></MPD>";
  assert_int_equal(dash_parse(sub, base, limits, {}, &out), manifest_status::unsupported);
  std::unique_ptr<xml_element> root;
  assert_int_equal(xml_parse("<a>&#0;</a>", {}, &root), xml_status::malformed);
  assert_int_equal(xml_parse("<a>&#x110000;</a>", {}, &root), xml_status::malformed);
  assert_int_equal(xml_parse("<a>&#x41;&lt;<![CDATA[<x>]]></a>", {}, &root), xml_status::ok);
  assert_string_equal(root->text.c_str(), "A<<x>");
}

void random_mutations_never_crash(void**) {
  const std::string seed =
      "<MPD mediaPresentationDuration=\"PT8S\"><BaseURL>b/</BaseURL><Period><AdaptationSet>"
      "<SegmentTemplate timescale=\"2\" duration=\"4\" media=\"$Number%03d$\" "
      "initialization=\"i\"><SegmentTimeline><S t=\"0\" d=\"4\" r=\"-1\"/></SegmentTimeline>"
      "</SegmentTemplate><Representation id=\"r\"><p2p:SegmentHashes xmlns:p2p=\"urn:p2p:2026\">"
      "<p2p:H n=\"1\" sha256=\"" +
      kA +
      "\"/></p2p:SegmentHashes><SegmentList duration=\"1\">"
      "<SegmentURL media=\"x\" mediaRange=\"0-9\"/></SegmentList></Representation>"
      "</AdaptationSet></Period></MPD>";
  std::mt19937 rng(7);
  dash_mpd out;
  manifest_limits limits;
  limits.max_items = 5000;
  for (int i = 0; i < 3000; ++i) {
    std::string s = seed;
    int edits = 1 + rng() % 6;
    for (int e = 0; e < edits; ++e) {
      size_t at = rng() % s.size();
      switch (rng() % 3) {
        case 0:
          s[at] = "<>/=\"&;$-19 aS"[rng() % 14];
          break;
        case 1:
          s.erase(at, rng() % 8);
          break;
        default:
          s.insert(at, 1, static_cast<char>(rng()));
      }
      if (s.empty()) s = "<";
    }
    dash_parse(s, "http://o/m.mpd", limits, {}, &out);
  }
}

}  // namespace

int main() {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(template_number_static_with_hints),
      cmocka_unit_test(timeline_with_repeat_and_time),
      cmocka_unit_test(segment_list_with_ranges),
      cmocka_unit_test(dynamic_template_uses_clock),
      cmocka_unit_test(durations),
      cmocka_unit_test(hostile_mpds),
      cmocka_unit_test(random_mutations_never_crash),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
