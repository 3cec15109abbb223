//! Billing periods and frequencies, and the calendar arithmetic that turns them into charge dates.

use chrono::{DateTime, Months, TimeDelta, Utc};

/// Ordered from shortest to longest so recurring charges can be listed by (unit, count).
/// Stored in orders as "HOUR" … "YEAR".
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum PeriodUnit {
    Hour,
    Day,
    Week,
    Month,
    Year,
}

impl PeriodUnit {
    const ALL: [PeriodUnit; 5] = [Self::Hour, Self::Day, Self::Week, Self::Month, Self::Year];

    /// "HOUR", "DAY", "WEEK", "MONTH" or "YEAR", in any case.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|unit| unit.as_str().eq_ignore_ascii_case(s))
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Hour => "HOUR",
            Self::Day => "DAY",
            Self::Week => "WEEK",
            Self::Month => "MONTH",
            Self::Year => "YEAR",
        }
    }
}

/// `count` units, e.g. 3 months. `count` must be at least 1; `quote` rejects 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Period {
    pub count: u32,
    pub unit: PeriodUnit,
}

impl Period {
    /// `start` + `n` periods. Month and year steps are counted from `start` itself (not chained), and a day
    /// the target month lacks is clamped to its last day: Jan 31 + 1 month = Feb 28/29, + 2 months = Mar 31.
    /// Hours, days and weeks are exact durations (UTC has no daylight saving). `None` on overflow.
    pub fn add_to(&self, start: DateTime<Utc>, n: u32) -> Option<DateTime<Utc>> {
        let steps = u64::from(self.count) * u64::from(n);
        let months = |per_unit: u64| u32::try_from(steps.checked_mul(per_unit)?).ok().map(Months::new);
        let hours = |per_unit: u64| TimeDelta::try_hours(i64::try_from(steps.checked_mul(per_unit)?).ok()?);
        match self.unit {
            PeriodUnit::Hour => start.checked_add_signed(hours(1)?),
            PeriodUnit::Day => start.checked_add_signed(hours(24)?),
            PeriodUnit::Week => start.checked_add_signed(hours(24 * 7)?),
            PeriodUnit::Month => start.checked_add_months(months(1)?),
            PeriodUnit::Year => start.checked_add_months(months(12)?),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Frequency {
    OneTime,
    Every(Period),
}

impl Frequency {
    /// The billing period of a recurring frequency; `None` for one-time.
    pub fn period(&self) -> Option<Period> {
        match self {
            Self::OneTime => None,
            Self::Every(period) => Some(*period),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(y: i32, m: u32, d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, 12, 30, 0).unwrap()
    }

    fn every(count: u32, unit: PeriodUnit) -> Period {
        Period { count, unit }
    }

    #[test]
    fn units_parse_in_any_case_and_round_trip() {
        assert_eq!(PeriodUnit::parse("month"), Some(PeriodUnit::Month));
        assert_eq!(PeriodUnit::parse("Week"), Some(PeriodUnit::Week));
        assert_eq!(PeriodUnit::parse("fortnight"), None);
        for unit in PeriodUnit::ALL {
            assert_eq!(PeriodUnit::parse(unit.as_str()), Some(unit));
        }
    }

    #[test]
    fn jan_31_plus_one_month_clamps_to_the_end_of_february() {
        let monthly = every(1, PeriodUnit::Month);
        assert_eq!(monthly.add_to(at(2023, 1, 31), 1), Some(at(2023, 2, 28)));
        assert_eq!(monthly.add_to(at(2024, 1, 31), 1), Some(at(2024, 2, 29)));
    }

    #[test]
    fn later_months_count_from_the_start_so_the_day_does_not_drift() {
        let monthly = every(1, PeriodUnit::Month);
        assert_eq!(monthly.add_to(at(2024, 1, 31), 2), Some(at(2024, 3, 31)));
        assert_eq!(monthly.add_to(at(2024, 1, 31), 3), Some(at(2024, 4, 30)));
        assert_eq!(every(3, PeriodUnit::Month).add_to(at(2024, 11, 30), 1), Some(at(2025, 2, 28)));
    }

    #[test]
    fn a_year_after_a_leap_day_is_feb_28() {
        assert_eq!(every(1, PeriodUnit::Year).add_to(at(2024, 2, 29), 1), Some(at(2025, 2, 28)));
        assert_eq!(every(1, PeriodUnit::Year).add_to(at(2024, 2, 29), 4), Some(at(2028, 2, 29)));
    }

    #[test]
    fn hours_days_and_weeks_are_exact_durations() {
        let start = at(2024, 12, 31);
        assert_eq!(every(36, PeriodUnit::Hour).add_to(start, 1), Some(at(2025, 1, 2) - TimeDelta::hours(12)));
        assert_eq!(every(1, PeriodUnit::Day).add_to(start, 3), Some(at(2025, 1, 3)));
        assert_eq!(every(2, PeriodUnit::Week).add_to(start, 1), Some(at(2025, 1, 14)));
        assert_eq!(every(1, PeriodUnit::Week).add_to(start, 0), Some(start));
    }

    #[test]
    fn overflowing_dates_are_none_not_a_panic() {
        for unit in PeriodUnit::ALL {
            assert_eq!(every(u32::MAX, unit).add_to(at(2024, 1, 1), u32::MAX), None, "{unit:?}");
        }
        assert_eq!(every(1, PeriodUnit::Day).add_to(DateTime::<Utc>::MAX_UTC, 1), None);
    }

    #[test]
    fn only_recurring_frequencies_have_a_period() {
        assert_eq!(Frequency::OneTime.period(), None);
        let monthly = every(1, PeriodUnit::Month);
        assert_eq!(Frequency::Every(monthly).period(), Some(monthly));
    }
}
