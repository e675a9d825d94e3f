//! The pre-call check's decisions, apart from the browser: what kind of candidate a candidate
//! line is, what an `icecandidateerror` means, and the network verdict from what a loopback pair
//! of peer connections gathered and connected (the browser half is `web::preflight`).

use crate::prelude::*;

/// The kinds of ICE candidate (RFC 8445 §5.1.1), from a candidate line's `typ`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum CandidateType {
    /// An address of the machine itself.
    Host,
    /// The public address a STUN server saw (server-reflexive).
    Srflx,
    /// An address learned from the other side's checks (peer-reflexive).
    Prflx,
    /// An address on a TURN server, which relays the media.
    Relay,
}

impl CandidateType {
    /// The name in SDP and in `getStats()`'s `candidateType`.
    pub fn from_name(name: &str) -> Option<CandidateType> {
        match name {
            "host" => Some(CandidateType::Host),
            "srflx" => Some(CandidateType::Srflx),
            "prflx" => Some(CandidateType::Prflx),
            "relay" => Some(CandidateType::Relay),
            _ => None,
        }
    }

    /// The kind of a candidate line (`candidate:1 1 udp 2122 10.0.0.2 5000 typ host ...`): the
    /// word after `typ`.
    pub fn of_line(line: &str) -> Option<CandidateType> {
        let mut words = line.split_ascii_whitespace();
        while let Some(word) = words.next() {
            if word == "typ" {
                return words.next().and_then(CandidateType::from_name);
            }
        }
        None
    }

    /// The stable name: `host`, `srflx`, `prflx` or `relay`.
    pub fn as_str(self) -> &'static str {
        match self {
            CandidateType::Host => "host",
            CandidateType::Srflx => "srflx",
            CandidateType::Prflx => "prflx",
            CandidateType::Relay => "relay",
        }
    }
}

/// Which kinds of local candidate were gathered.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct Gathered {
    /// At least one host candidate.
    pub host: bool,
    /// At least one server-reflexive candidate (STUN answered with an address other than a
    /// host one: a browser drops a reflexive address equal to a host address, so a machine
    /// with no NAT in front of it has none, and that is not a fault).
    pub srflx: bool,
    /// At least one relay candidate (a TURN server granted an allocation).
    pub relay: bool,
}

impl Gathered {
    /// Counts a gathered candidate line.
    pub fn note_line(&mut self, line: &str) {
        match CandidateType::of_line(line) {
            Some(CandidateType::Host) => self.host = true,
            Some(CandidateType::Srflx) => self.srflx = true,
            Some(CandidateType::Relay) => self.relay = true,
            Some(CandidateType::Prflx) | None => {}
        }
    }
}

/// Whether an ICE server URL is a TURN one (`turn:` or `turns:`), not STUN.
pub fn is_turn_url(url: &str) -> bool {
    let url = url.as_bytes();
    let scheme_end = if url.get(4).is_some_and(|b| b.eq_ignore_ascii_case(&b's')) {
        5
    } else {
        4
    };
    url.len() > scheme_end && url[..4].eq_ignore_ascii_case(b"turn") && url[scheme_end] == b':'
}

/// The code of a TURN server's refusal of the credentials.
pub const TURN_AUTH_FAILED: &str = "turn-auth-failed";
/// The code of a TURN server that did not answer.
pub const TURN_UNREACHABLE: &str = "turn-unreachable";
/// The code of a STUN server that did not answer.
pub const STUN_UNREACHABLE: &str = "stun-unreachable";
/// The code of any other error an ICE server answered with.
pub const ICE_SERVER_ERROR: &str = "ice-server-error";
/// TURN is configured, no relay candidate came, and the TURN server answered with an error
/// other than a refused password (a full quota, a forbidden address, ...).
pub const TURN_REFUSED: &str = "turn-refused";
/// A relay candidate came but no connection was made through it.
pub const RELAY_FAILED: &str = "relay-failed";
/// No candidate pair connected at all.
pub const NO_PATH: &str = "no-path";

/// The code of an `icecandidateerror` from the server at `url` with the STUN/TURN error code
/// `error_code` (RFC 8489 §14.8; 701 is WebRTC's own "no response", RFC 8445 has none).
pub fn server_error_code(url: &str, error_code: u16) -> &'static str {
    match error_code {
        // 401 Unauthorized: the password is wrong (the server's realm or nonce check fails the
        // same way); 441 Wrong Credentials: a known user with another password mid-session.
        401 | 441 => TURN_AUTH_FAILED,
        700..=799 if is_turn_url(url) => TURN_UNREACHABLE,
        700..=799 => STUN_UNREACHABLE,
        _ => ICE_SERVER_ERROR,
    }
}

/// Most server errors kept for one check: a browser fires one per local address per server, and
/// several per second while it retries.
pub const MAX_SERVER_ERRORS: usize = 8;

/// One `icecandidateerror`.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct ServerError {
    /// The server's URL as the browser names it.
    pub url: String,
    /// The STUN/TURN error code (701: no response).
    pub error_code: u16,
    /// The browser's or the server's reason phrase.
    pub text: String,
}

impl ServerError {
    /// The stable code (see [`server_error_code`]).
    pub fn code(&self) -> &'static str {
        server_error_code(&self.url, self.error_code)
    }
}

/// Adds `error` to `errors` unless one from the same server with the same code is there, or
/// [`MAX_SERVER_ERRORS`] are.
pub fn note_error(errors: &mut Vec<ServerError>, error: ServerError) {
    let seen = errors
        .iter()
        .any(|e| e.url == error.url && e.error_code == error.error_code);
    if !seen && errors.len() < MAX_SERVER_ERRORS {
        errors.push(error);
    }
}

/// What the loopback check found: the browser half collects it, [`verdict`] judges it.
/// Pair 0 is made with the app's own configuration; with a TURN server and the default policy
/// a pair 1 runs beside it with `iceTransportPolicy: 'relay'`.
#[derive(Clone, PartialEq, Debug, Default)]
pub struct Findings {
    /// What every connection gathered.
    pub gathered: Gathered,
    /// Per pair: its data channel opened (ICE and DTLS completed).
    pub connected: [bool; 2],
    /// The pair whose path is relayed only: 1 beside the app's, 0 when the app asked for
    /// `'relay'` itself, `None` when neither.
    pub relay: Option<usize>,
    /// Pair 0's selected candidate pair: its local candidate type.
    pub path: Option<CandidateType>,
    /// Per pair: the selected candidate pair's round-trip time, in milliseconds.
    pub rtt_ms: [Option<f64>; 2],
    /// The servers' errors, each once (both pairs use the same servers).
    pub errors: Vec<ServerError>,
}

impl Findings {
    /// A connection through TURN was made.
    pub fn relay_connected(&self) -> bool {
        self.relay.is_some_and(|pair| self.connected[pair])
    }

    /// The relayed connection's round-trip time.
    pub fn relay_rtt_ms(&self) -> Option<f64> {
        self.relay.and_then(|pair| self.rtt_ms[pair])
    }
}

/// The round-trip time of a candidate pair from its `getStats()` fields, in milliseconds: the
/// latest (`currentRoundTripTime`, seconds), else the mean over the checks answered
/// (`totalRoundTripTime / responsesReceived`), for a browser without the first.
pub fn pair_rtt_ms(
    current: Option<f64>,
    total: Option<f64>,
    responses: Option<f64>,
) -> Option<f64> {
    let seconds = match (current, total, responses) {
        (Some(current), _, _) if current.is_finite() && current >= 0.0 => current,
        (_, Some(total), Some(responses)) if responses >= 1.0 && total.is_finite() => {
            total / responses
        }
        _ => return None,
    };
    (seconds >= 0.0).then_some(seconds * 1000.0)
}

/// The network verdict: `None` when it is fine, else the code of what failed, the cause before
/// its effect (a TURN server that refused the password, before "no relay candidate", before "no
/// connection"). `turn` says whether a TURN server was configured.
pub fn verdict(turn: bool, found: &Findings) -> Option<&'static str> {
    if turn {
        if !found.gathered.relay {
            let mut codes = found.errors.iter().filter(|e| is_turn_url(&e.url));
            let refused = codes.clone().any(|e| e.code() == ICE_SERVER_ERROR);
            if codes.any(|e| e.code() == TURN_AUTH_FAILED) {
                return Some(TURN_AUTH_FAILED);
            }
            // No allocation and no refusal: the server did not answer (the browser's 701, or,
            // as both browsers do for a stopped server within seconds, nothing at all).
            return Some(if refused {
                TURN_REFUSED
            } else {
                TURN_UNREACHABLE
            });
        }
        if !found.relay_connected() {
            return Some(RELAY_FAILED);
        }
    }
    (!found.connected[0]).then_some(NO_PATH)
}

/// Bounds of the options, in milliseconds: how long the network check may take, and how long
/// the microphone is listened to.
pub const MAX_TIMEOUT_MS: u64 = 60_000;
/// The default of `timeoutMs`.
pub const DEFAULT_TIMEOUT_MS: u64 = 5_000;
/// The longest `listenMs`.
pub const MAX_LISTEN_MS: u64 = 10_000;
/// The default of `listenMs`.
pub const DEFAULT_LISTEN_MS: u64 = 1_000;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn candidate_lines_are_read_by_their_typ() {
        let cases = [
            ("candidate:842163049 1 udp 1677729535 203.0.113.7 46154 typ srflx raddr 10.0.0.2 rport 46154 generation 0", Some(CandidateType::Srflx)),
            ("candidate:1 1 UDP 2122252543 10.0.0.2 5000 typ host", Some(CandidateType::Host)),
            ("candidate:3 1 udp 41885439 127.0.0.1 50000 typ relay raddr 127.0.0.1 rport 3478", Some(CandidateType::Relay)),
            ("candidate:4 1 tcp 1518280447 abc.local 9 typ host tcptype active", Some(CandidateType::Host)),
            ("candidate:5 1 udp 1 10.0.0.2 5 typ prflx", Some(CandidateType::Prflx)),
            ("candidate:6 1 udp 1 10.0.0.2 5 typ", None),
            ("candidate:7 1 udp 1 10.0.0.2 5 typ mystery", None),
            ("", None),
            // `typ` is a word, not a substring.
            ("candidate:8 1 udp 1 typhost.local 5 generation 0", None),
        ];
        for (line, expected) in cases {
            assert_eq!(CandidateType::of_line(line), expected, "{line}");
        }
        for kind in [
            CandidateType::Host,
            CandidateType::Srflx,
            CandidateType::Prflx,
            CandidateType::Relay,
        ] {
            assert_eq!(CandidateType::from_name(kind.as_str()), Some(kind));
        }
    }

    #[test]
    fn gathering_counts_each_kind() {
        let mut gathered = Gathered::default();
        gathered.note_line("candidate:1 1 udp 1 10.0.0.2 5000 typ host");
        assert_eq!(
            gathered,
            Gathered {
                host: true,
                srflx: false,
                relay: false
            }
        );
        gathered.note_line("candidate:5 1 udp 1 10.0.0.2 5 typ prflx");
        gathered.note_line("not a candidate");
        assert_eq!(
            gathered,
            Gathered {
                host: true,
                srflx: false,
                relay: false
            }
        );
        gathered.note_line("candidate:3 1 udp 1 127.0.0.1 50000 typ relay raddr 0.0.0.0 rport 0");
        assert_eq!(
            gathered,
            Gathered {
                host: true,
                srflx: false,
                relay: true
            }
        );
    }

    #[test]
    fn turn_urls_are_told_from_stun_ones() {
        assert!(is_turn_url("turn:127.0.0.1:3478"));
        assert!(is_turn_url("turns:turn.example.org:443?transport=tcp"));
        assert!(is_turn_url("TURN:example.org"));
        assert!(!is_turn_url("stun:127.0.0.1:3478"));
        assert!(!is_turn_url("stuns:example.org"));
        assert!(!is_turn_url("turnip:example.org"));
        assert!(!is_turn_url(""));
    }

    #[test]
    fn server_errors_map_to_codes() {
        assert_eq!(
            server_error_code("turn:127.0.0.1:3478?transport=udp", 401),
            TURN_AUTH_FAILED
        );
        assert_eq!(
            server_error_code("turn:127.0.0.1:3478", 441),
            TURN_AUTH_FAILED
        );
        assert_eq!(
            server_error_code("turn:127.0.0.1:3478", 701),
            TURN_UNREACHABLE
        );
        assert_eq!(
            server_error_code("turns:example.org", 701),
            TURN_UNREACHABLE
        );
        assert_eq!(
            server_error_code("stun:127.0.0.1:3478", 701),
            STUN_UNREACHABLE
        );
        assert_eq!(
            server_error_code("turn:127.0.0.1:3478", 486),
            ICE_SERVER_ERROR
        );
        assert_eq!(
            server_error_code("turn:127.0.0.1:3478", 0),
            ICE_SERVER_ERROR
        );
    }

    #[test]
    fn server_errors_are_kept_once_each_and_bounded() {
        let error = |url: &str, error_code| ServerError {
            url: url.into(),
            error_code,
            text: "x".into(),
        };
        let mut errors = Vec::new();
        note_error(&mut errors, error("turn:a", 401));
        note_error(&mut errors, error("turn:a", 401));
        note_error(&mut errors, error("turn:a", 701));
        note_error(&mut errors, error("turn:b", 401));
        assert_eq!(errors.len(), 3);
        for n in 0..20 {
            note_error(&mut errors, error(&format!("turn:{n}"), 701));
        }
        assert_eq!(errors.len(), MAX_SERVER_ERRORS);
        assert_eq!(errors[0].code(), TURN_AUTH_FAILED);
    }

    #[test]
    fn rtt_prefers_the_latest_measure() {
        assert_eq!(pair_rtt_ms(Some(0.012), Some(1.0), Some(10.0)), Some(12.0));
        assert_eq!(pair_rtt_ms(None, Some(0.05), Some(10.0)), Some(5.0));
        assert_eq!(
            pair_rtt_ms(None, Some(0.05), Some(0.0)),
            None,
            "no check answered"
        );
        assert_eq!(pair_rtt_ms(Some(f64::NAN), None, None), None);
        assert_eq!(pair_rtt_ms(Some(-1.0), Some(0.02), Some(2.0)), Some(10.0));
        assert_eq!(pair_rtt_ms(None, None, None), None);
    }

    /// Findings of a check with a relay pair beside the app's: what was gathered, whether each
    /// pair connected, the servers' errors.
    fn found(host: bool, relay: bool, connected: [bool; 2], errors: &[(&str, u16)]) -> Findings {
        Findings {
            gathered: Gathered {
                host,
                srflx: false,
                relay,
            },
            connected,
            relay: Some(1),
            errors: errors
                .iter()
                .map(|(url, error_code)| ServerError {
                    url: (*url).into(),
                    error_code: *error_code,
                    text: String::new(),
                })
                .collect(),
            ..Findings::default()
        }
    }

    #[test]
    fn the_verdict_names_the_cause() {
        let no_turn = |connected| Findings {
            relay: None,
            ..found(true, false, [connected, false], &[])
        };
        // No TURN: a host connection is all there is to have.
        assert_eq!(verdict(false, &no_turn(true)), None);
        assert_eq!(verdict(false, &no_turn(false)), Some(NO_PATH));
        // A STUN server that did not answer is reported, but is no failure by itself.
        let stun_silent = Findings {
            relay: None,
            ..found(true, false, [true, false], &[("stun:a", 701)])
        };
        assert_eq!(verdict(false, &stun_silent), None);
        // TURN up: relay gathered and connected in the relay pair.
        assert_eq!(verdict(true, &found(true, true, [true, true], &[])), None);
        // A wrong password: the 401 is the cause, though the host path works.
        let refused = found(
            true,
            false,
            [true, false],
            &[("turn:a", 701), ("turn:a", 401)],
        );
        assert_eq!(verdict(true, &refused), Some(TURN_AUTH_FAILED));
        // A stopped server.
        let silent = found(true, false, [true, false], &[("turn:a", 701)]);
        assert_eq!(verdict(true, &silent), Some(TURN_UNREACHABLE));
        // A stopped server: neither browser says anything within seconds.
        assert_eq!(
            verdict(true, &found(true, false, [true, false], &[])),
            Some(TURN_UNREACHABLE)
        );
        // A server that answered with another error.
        let full = found(true, false, [true, false], &[("turn:a", 486)]);
        assert_eq!(verdict(true, &full), Some(TURN_REFUSED));
        // A STUN server's silence says nothing about the TURN server's.
        let stun = found(
            true,
            false,
            [true, false],
            &[("stun:b", 701), ("turn:a", 401)],
        );
        assert_eq!(verdict(true, &stun), Some(TURN_AUTH_FAILED));
        // An error from one address while another got its allocation is no failure.
        let partly = found(true, true, [true, true], &[("turn:a", 701)]);
        assert_eq!(verdict(true, &partly), None);
        // A relay that did not carry the connection.
        assert_eq!(
            verdict(true, &found(true, true, [true, false], &[])),
            Some(RELAY_FAILED)
        );
        // The app asked for relay only: pair 0 is both.
        let only = |connected, errors| Findings {
            relay: Some(0),
            ..found(false, connected, [connected, false], errors)
        };
        assert_eq!(verdict(true, &only(true, &[])), None);
        assert!(only(true, &[]).relay_connected());
        assert_eq!(
            verdict(true, &only(false, &[("turn:a", 701)])),
            Some(TURN_UNREACHABLE)
        );
        // TURN fine, but the app's own pair did not connect.
        assert_eq!(
            verdict(true, &found(true, true, [false, true], &[])),
            Some(NO_PATH)
        );
    }
}
