"""GraphQL documents shared by tests (and benchmarks)."""

ARTIFACT = "kind name stage mimeType sizeBytes durationSeconds url"

COMPOSITION_FIELDS = f"""
  id prompt seed status createdAt finishedAt durationSeconds instrumental error lastSeq
  context {{
    mood valence energy key scale tempo timeSignature instruments vocalStyle vocalRange
    loudnessTarget totalBeats genres {{ name weight }} sources {{ field source }}
  }}
  mood {{ name valence energy tags source }}
  genre {{ primary source tempo swing density loudnessTarget programs weights {{ name weight }}
    reference {{ referenceId name tempo key scale }} }}
  sections {{ index name startBar bars energy vocal chords }}
  layers {{ index name instrument role program channel isDrum volume pan noteCount notes
    midi {{ {ARTIFACT} }} }}
  lyrics {{ title source text lines {{ index sectionIndex sectionName text rhyme
    syllables {{ text start duration stress wordEnd }} }} }}
  voice {{ voice instrument source low high program notes syllables midi {{ {ARTIFACT} }} }}
  master {{ targetLufs loudnessBefore integratedLufs gainDb samplePeakDbfs truePeakDbtp durationSeconds
    sampleRate ceilingDbtp preset presetValues {{ targetLufs stereoWidth }}
    measurements {{ name unit target before achieved }}
    referenceMatch {{ referenceId distanceBeforeDb distanceAfterDb bands {{ frequency eqGainDb }} }}
    wav {{ {ARTIFACT} }} flac {{ {ARTIFACT} }} mp3 {{ {ARTIFACT} }} midi {{ {ARTIFACT} }} }}
  stages {{ name position status progress message error attempts seed inputHash reused startedAt finishedAt }}
  artifacts {{ {ARTIFACT} }}
  versions {{ number reason createdAt elements context {{ tempo key }} artifacts {{ {ARTIFACT} }} }}
"""

COMPOSITION = f"query One($id: ID!) {{ composition(id: $id) {{ {COMPOSITION_FIELDS} }} }}"

COMPOSITIONS_PAGE = (
    f"query Page($first: Int!) {{ compositions(first: $first) {{ totalCount "
    f"edges {{ cursor node {{ {COMPOSITION_FIELDS} }} }} pageInfo {{ hasNextPage endCursor }} }} }}"
)

CREATE = """
mutation Create($input: CreateCompositionInput!) {
  createComposition(input: $input) { id status prompt seed durationSeconds stages { name status } }
}
"""
