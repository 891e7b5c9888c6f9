//! Text from a server made safe to print. A display name, an account name or
//! an error text comes from whoever answers the URL; printed raw, an escape
//! sequence in it could retitle the terminal, clear the screen, rewrite the
//! line before it (CR) or reorder what the user reads (bidi overrides).

/// `text` without control characters: whole ANSI escape sequences (CSI, OSC,
/// DCS and friends, 7- and 8-bit) are dropped, CR/LF/TAB become a space, other
/// C0/C1 controls, DEL and bidi controls are dropped, and the result is trimmed.
pub fn printable(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\u{1b}' => match chars.next() {
                Some('[') => skip_csi(&mut chars),
                Some(']' | 'P' | 'X' | '^' | '_') => skip_string(&mut chars),
                // A two-character escape (ESC c, ESC 7...): both go.
                _ => {}
            },
            '\u{9b}' => skip_csi(&mut chars),
            '\u{90}' | '\u{98}' | '\u{9d}' | '\u{9e}' | '\u{9f}' => skip_string(&mut chars),
            '\r' | '\n' | '\t' => out.push(' '),
            c if c.is_control() || is_bidi_control(c) => {}
            c => out.push(c),
        }
    }
    out.trim().to_string()
}

/// A CSI sequence ends with a byte from `@` to `~`.
fn skip_csi(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    for c in chars.by_ref() {
        if ('\u{40}'..='\u{7e}').contains(&c) {
            return;
        }
    }
}

/// OSC/DCS/SOS/PM/APC strings end with BEL, ST (`ESC \`) or the 8-bit ST.
fn skip_string(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    while let Some(c) = chars.next() {
        match c {
            '\u{7}' | '\u{9c}' => return,
            '\u{1b}' => {
                if chars.peek() == Some(&'\\') {
                    chars.next();
                }
                return;
            }
            _ => {}
        }
    }
}

fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_sequences_are_removed_and_the_visible_text_kept() {
        for (input, shown) in [
            ("Peter Fabfiber", "Peter Fabfiber"),
            ("\u{1b}]0;pwned\u{7}\u{1b}[2J\rMallory", "Mallory"),
            (
                "a\u{1b}]8;;https://evil.example\u{1b}\\link\u{1b}]8;;\u{1b}\\b",
                "alinkb",
            ),
            ("\u{1b}[31mred\u{1b}[0m", "red"),
            ("x\u{9b}2Jy\u{9d}title\u{9c}z", "xyz"),
            ("bell\u{7}\u{8}\u{7f}\u{85}!", "bell!"),
            ("line\r\nbreak\ttab", "line  break tab"),
            ("\u{202e}txt.exe\u{202c}", "txt.exe"),
            ("FABFIBER\\peter", "FABFIBER\\peter"),
            ("Zoë Ünïcødé 日本", "Zoë Ünïcødé 日本"),
            ("\u{1b}]0;never ends", ""),
            ("\u{1b}", ""),
        ] {
            assert_eq!(printable(input), shown, "{input:?}");
        }
    }

    #[test]
    fn nothing_printable_ever_keeps_a_control_character() {
        let all: String = (0u32..0x300).filter_map(char::from_u32).collect();
        assert!(!printable(&all).chars().any(char::is_control));
    }
}
