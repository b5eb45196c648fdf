from modules.composition.context import LyricLine, Syllable
from modules.lyrics.lrc import timestamp, to_lrc


def test_timestamps_are_minutes_seconds_and_hundredths() -> None:
    assert timestamp(0) == "[00:00.00]"
    assert timestamp(65.437) == "[01:05.44]"
    assert timestamp(600.0) == "[10:00.00]"


def test_each_line_is_stamped_at_its_first_syllable() -> None:
    lines = [
        LyricLine(1, "verse", "we rise", [Syllable("we", 8.0, 1.0), Syllable("rise", 9.0, 2.0)]),
        LyricLine(1, "verse", "and fall", [Syllable("and", 12.5, 0.5), Syllable("fall", 13.0, 1.0)]),
    ]
    # 120 bpm: half a second per beat.
    assert to_lrc(lines, 0.5, "Rise") == "[ti:Rise]\n[00:04.00]we rise\n[00:06.25]and fall\n"
