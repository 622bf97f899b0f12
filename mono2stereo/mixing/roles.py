"""Stem roles: what a stem is (drums, bass, vocals, ...) from its file name, and which instrument's place it takes.

Demucs writes `drums`, `bass`, `vocals`, `other` (and `guitar`, `piano` with its six-stem model, `no_vocals` with
`--two-stems`); Spleeter writes `vocals`, `accompaniment`, `drums`, `bass`, `other`, `piano`. Recorded stems are
named freely (`01 Lead Vox.wav`, `kick.flac`): the first word of the name that names a role decides, except that
`backing` wins (`Backing Vocals`) and `lead` gives way to the instrument it qualifies (`Lead Guitar`).
"""

from __future__ import annotations

import os
import re

# role -> the instrument of `styles.INSTRUMENTS` whose place in a mixing style the stem takes
ROLE_INSTRUMENTS = {
    "drums": "kick",  # the whole kit: where the style puts the kick (the centre in modern)
    "kick": "kick",
    "snare": "snare",
    "hats": "hats",
    "percussion": "hats",
    "bass": "bass",
    "vocals": "lead",
    "lead": "lead",
    "backing": "pads",
    "piano": "chords",
    "keys": "chords",
    "guitar": "chords",
    "chords": "chords",
    "strings": "pads",
    "synth": "pads",
    "pads": "pads",
    "accompaniment": "pads",
    "other": "pads",
}
# words in file names -> the role they name
ROLE_WORDS = {
    **{role: role for role in ROLE_INSTRUMENTS},
    "drum": "drums",
    "kit": "drums",
    "hat": "hats",
    "hihat": "hats",
    "hihats": "hats",
    "perc": "percussion",
    "vocal": "vocals",
    "vox": "vocals",
    "voice": "vocals",
    "singing": "vocals",
    "bv": "backing",
    "bvs": "backing",
    "choir": "backing",
    "rhodes": "keys",
    "organ": "keys",
    "gtr": "guitar",
    "guitars": "guitar",
    "violin": "strings",
    "cello": "strings",
    "pad": "pads",
    "instrumental": "accompaniment",
    "music": "accompaniment",
}
DEFAULT_ROLE = "other"


def role_from_name(name: str) -> str:
    """The role a stem's file name says (`drums.wav` -> drums, `Lead Vox 2.flac` -> vocals); `other` if none."""
    stem = os.path.splitext(os.path.basename(name))[0].lower()
    if re.search(r"(^|[^a-z])no[ _-]?vocals?($|[^a-z])", stem):  # Demucs --two-stems: everything but the vocals
        return "accompaniment"
    words = re.split(r"[^a-z]+", stem)
    words = [word for word in words if word] + [re.sub(r"[^a-z]", "", stem)]  # "hi-hat" -> "hihat"
    named = [ROLE_WORDS[word] for word in words if word in ROLE_WORDS]
    if "backing" in named:  # "Backing Vocals": the backing part, not the lead
        return "backing"
    named = [role for role in named if role != "lead"] or named  # "Lead Vox", "Lead Guitar": the instrument
    if named:
        return named[0]
    for word in words:  # "drumloop", "bassline", "leadvocal": a role word starting a longer word
        for known in sorted(ROLE_WORDS, key=len, reverse=True):
            if len(known) >= 4 and word.startswith(known):
                return ROLE_WORDS[known]
    return DEFAULT_ROLE


def check_role(role: str) -> str:
    """`role` if mono2stereo knows it, else a ValueError listing the roles."""
    if role not in ROLE_INSTRUMENTS:
        raise ValueError(f"unknown stem role {role!r}; choose one of {', '.join(ROLE_INSTRUMENTS)}")
    return role


def parse_stem_argument(argument: str) -> tuple[str | None, str]:
    """`role=path` -> (role, path); a plain path -> (None, path). A `=` after a folder or a dot is part of a path."""
    role, separator, path = argument.partition("=")
    if separator and role and "/" not in role and os.sep not in role and "." not in role:
        return check_role(role), path
    return None, argument


__all__ = ["DEFAULT_ROLE", "ROLE_INSTRUMENTS", "ROLE_WORDS", "check_role", "parse_stem_argument", "role_from_name"]
