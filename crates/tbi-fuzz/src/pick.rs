//! Choosing from the fuzzer's bytes: a value from a list, a short string, a number in a
//! range. Running out of bytes gives the first choice, the empty string, the range's start.

use arbitrary::Unstructured;

/// One of `choices`.
pub(crate) fn one<'a, T: ?Sized>(u: &mut Unstructured<'_>, choices: &[&'a T]) -> &'a T {
    let index = u.choose_index(choices.len()).unwrap_or(0);
    choices[index]
}

/// A string of at most `max` characters, from the bytes.
pub(crate) fn text(u: &mut Unstructured<'_>, max: usize) -> String {
    let len = u.int_in_range(0..=max).unwrap_or(0);
    let mut out = String::with_capacity(len);
    for _ in 0..len {
        let c = u.arbitrary::<char>().unwrap_or('a');
        out.push(c);
    }
    out
}

/// A number in `range`.
pub(crate) fn number(u: &mut Unstructured<'_>, range: std::ops::RangeInclusive<u64>) -> u64 {
    u.int_in_range(range.clone()).unwrap_or(*range.start())
}
