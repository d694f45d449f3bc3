//===- tests/unit/examples/DateFormatsTest.cpp - the dates examples' data -===//
//
// Every format against hand-written strings for a handful of dates (ordinals 1st/2nd/3rd/11th/
// 12th/13th/22nd, both centuries of the two-digit years, a leap day, every weekday), and the
// split: seeded, deterministic, and no held-out date in the training set.
//
//===----------------------------------------------------------------------===//
#include "examples/dates/DateFormats.h"

#include "runtime/Support.h"

#include <doctest/doctest.h>

#include <set>

namespace examples_DateFormatsTest {

using namespace weft::examples::dates;

namespace {

struct Case {
  Date date;
  Format format;
  Casing casing;
  const char *text;
};

// Weekdays checked against a calendar: 2003-03-25 Tue, 1950-01-01 Sun, 2049-12-31 Fri,
// 2000-02-29 Tue, 1999-12-12 Sun, 2011-11-11 Fri, 2013-01-02 Wed, 1984-08-03 Fri, 2022-06-13 Mon.
const Case kCases[] = {
    {{2003, 3, 25}, Format::OrdinalOfMonthYear, Casing::Title, "25th of March 2003"},
    {{2003, 3, 25}, Format::WeekdayUsShort, Casing::Lower, "tue 3/25/03"},
    {{2003, 3, 25}, Format::MonthDayCommaYear, Casing::Title, "March 25, 2003"},
    {{2003, 3, 25}, Format::DottedIso, Casing::Title, "2003.03.25"},
    {{2003, 3, 25}, Format::DayMonthYear, Casing::Title, "25 March 2003"},
    {{2003, 3, 25}, Format::UsSlash, Casing::Title, "3/25/2003"},
    {{2003, 3, 25}, Format::DottedDayFirstShort, Casing::Title, "25.03.03"},
    {{2003, 3, 25}, Format::WeekdayMonthDayYear, Casing::Title, "Tuesday, March 25, 2003"},
    {{2003, 3, 25}, Format::AbbrevMonthDayShortYear, Casing::Lower, "mar 25 03"},
    {{2003, 3, 25}, Format::MonthOrdinalCommaYear, Casing::Title, "March 25th, 2003"},
    {{2003, 3, 25}, Format::WeekdayDayAbbrevMonth, Casing::Title, "Tue, 25 Mar 2003"},
    {{2003, 3, 25}, Format::DayDashAbbrevMonthYear, Casing::Upper, "25-MAR-2003"},
    {{2003, 3, 25}, Format::TheOrdinalOfMonthYear, Casing::Lower, "the 25th of march, 2003"},
    {{2003, 3, 25}, Format::Iso, Casing::Upper, "2003-03-25"},

    {{1950, 1, 1}, Format::OrdinalOfMonthYear, Casing::Upper, "1ST OF JANUARY 1950"},
    {{1950, 1, 1}, Format::WeekdayUsShort, Casing::Title, "Sun 1/1/50"},
    {{1950, 1, 1}, Format::DottedDayFirstShort, Casing::Lower, "01.01.50"},
    {{1950, 1, 1}, Format::AbbrevMonthDayShortYear, Casing::Upper, "JAN 1 50"},
    {{2049, 12, 31}, Format::WeekdayMonthDayYear, Casing::Lower, "friday, december 31, 2049"},
    {{2049, 12, 31}, Format::WeekdayUsShort, Casing::Upper, "FRI 12/31/49"},
    {{2049, 12, 31}, Format::DottedIso, Casing::Lower, "2049.12.31"},
    {{2000, 2, 29}, Format::MonthOrdinalCommaYear, Casing::Lower, "february 29th, 2000"},
    {{2000, 2, 29}, Format::WeekdayDayAbbrevMonth, Casing::Upper, "TUE, 29 FEB 2000"},
    {{1999, 12, 12}, Format::TheOrdinalOfMonthYear, Casing::Title, "The 12th of December, 1999"},
    {{1999, 12, 12}, Format::WeekdayUsShort, Casing::Lower, "sun 12/12/99"},
    {{2011, 11, 11}, Format::OrdinalOfMonthYear, Casing::Lower, "11th of november 2011"},
    {{2011, 11, 11}, Format::WeekdayMonthDayYear, Casing::Upper, "FRIDAY, NOVEMBER 11, 2011"},
    {{2013, 1, 2}, Format::MonthOrdinalCommaYear, Casing::Title, "January 2nd, 2013"},
    {{2013, 1, 2}, Format::WeekdayDayAbbrevMonth, Casing::Lower, "wed, 2 jan 2013"},
    {{1984, 8, 3}, Format::TheOrdinalOfMonthYear, Casing::Upper, "THE 3RD OF AUGUST, 1984"},
    {{1984, 8, 3}, Format::DayDashAbbrevMonthYear, Casing::Title, "3-Aug-1984"},
    {{1984, 8, 3}, Format::DottedDayFirstShort, Casing::Title, "03.08.84"},
    {{2022, 6, 13}, Format::OrdinalOfMonthYear, Casing::Title, "13th of June 2022"},
    {{2022, 6, 13}, Format::WeekdayMonthDayYear, Casing::Title, "Monday, June 13, 2022"},
    {{2022, 6, 22}, Format::OrdinalOfMonthYear, Casing::Title, "22nd of June 2022"},
    {{2022, 6, 13}, Format::UsSlash, Casing::Lower, "6/13/2022"},
};

} // namespace

TEST_CASE("dates: every format writes the hand-checked string of its date") {
  for (const Case &c : kCases) {
    CAPTURE(formatName(c.format));
    CAPTURE(c.text);
    CHECK(format(c.date, c.format, c.casing) == c.text);
  }
}

TEST_CASE("dates: the cases above cover every format") {
  std::set<Format> seen;
  for (const Case &c : kCases)
    seen.insert(c.format);
  CHECK(seen.size() == size_t(kNumFormats));
}

TEST_CASE("dates: the ISO form and the day count agree over the whole range") {
  CHECK(iso({2003, 3, 25}) == "2003-03-25");
  CHECK(iso(dateOfDay(0)) == "1950-01-01");
  CHECK(iso(dateOfDay(dayOf({2049, 12, 31}))) == "2049-12-31");
  // 100 years, 25 leap days (2000 is one; 1900 and 2100 are outside).
  CHECK(dayOf({2049, 12, 31}) == 100 * 365 + 25 - 1);
  for (int64_t i = 0; i <= dayOf({2049, 12, 31}); i += 97) {
    CAPTURE(i);
    CHECK(dayOf(dateOfDay(i)) == i);
  }
}

TEST_CASE("dates: invalid dates and two-digit years outside 1950-2049 are errors") {
  CHECK_FALSE(isValid({2001, 2, 29}));
  CHECK_FALSE(isValid({2001, 13, 1}));
  CHECK(isValid({2000, 2, 29}));
  CHECK_THROWS_WITH_AS(format({2001, 2, 29}, Format::Iso), doctest::Contains("not a calendar date"),
                       weft::Error);
  CHECK_THROWS_WITH_AS(format({1949, 12, 31}, Format::WeekdayUsShort),
                       doctest::Contains("1949 is outside"), weft::Error);
  CHECK(format({1949, 12, 31}, Format::UsSlash) == "12/31/1949");
}

TEST_CASE("dates: the split is deterministic and holds its dates out of training") {
  GenerateOptions o;
  o.seed = 7;
  o.trainExamples = 3000;
  o.heldOutExamples = 300;
  DateSplit a = generateDates(o), b = generateDates(o);
  REQUIRE(a.train.size() == 3000);
  REQUIRE(a.heldOut.size() == 300);
  for (size_t i = 0; i < a.train.size(); ++i)
    CHECK(a.train[i].human == b.train[i].human);
  std::set<std::string> trainDates, trainStrings;
  for (const Example &e : a.train) {
    trainDates.insert(e.iso);
    trainStrings.insert(e.human);
  }
  for (const Example &e : a.heldOut) {
    CAPTURE(e.human);
    CHECK(trainDates.count(e.iso) == 0);
    CHECK(trainStrings.count(e.human) == 0);
  }
  o.seed = 8;
  CHECK(generateDates(o).train[0].human != a.train[0].human);
}

TEST_CASE("dates: years outside 1950-2049 and an empty side are errors") {
  GenerateOptions o;
  o.firstYear = 1900;
  CHECK_THROWS_WITH_AS(generateDates(o), doctest::Contains("1950-2049"), weft::Error);
  o.firstYear = 2000;
  o.lastYear = 2000;
  o.heldOutDates = 0.0;
  CHECK_THROWS_WITH_AS(generateDates(o), doctest::Contains("without dates"), weft::Error);
}

TEST_CASE("dates: the longest date is a Wednesday in September in full words") {
  // "Wednesday, September 20, 2000" and "The 20th of September, 2000" have 29 and 27.
  CHECK(longestDate() == 29);
  CHECK(format({2000, 9, 20}, Format::WeekdayMonthDayYear).size() == 29);
}

} // namespace examples_DateFormatsTest
