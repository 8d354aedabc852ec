"""One character vocabulary for every sequence task: what training encodes, translation
encodes the same way, and decoding reads it back."""

from __future__ import annotations

from studio.data.tokens import BOS, EOS, PAD, UNK, CharVocab


def test_a_vocabulary_of_texts_puts_the_specials_first():
    chars = CharVocab.of_texts(["ba", "ca"])
    assert chars.tokens == ["<pad>", "<bos>", "<eos>", "<unk>", "a", "b", "c"]
    assert chars.encode("cab") == [6, 4, 5]
    assert chars.encode("cxb") == [6, UNK, 5]  # an unseen character is <unk>


def test_without_unk_an_unknown_character_is_left_out():
    chars = CharVocab(["<pad>", "<bos>", "<eos>", "a", "b"])
    assert chars.encode("a?b") == [3, 4]


def test_a_fixed_length_keeps_the_end_and_pads_on_the_chosen_side():
    chars = CharVocab.of_texts(["abc"])
    assert chars.encode("abc", 5, left=True) == [PAD, PAD, 4, 5, 6]
    assert chars.encode("abc", 5) == [4, 5, 6, PAD, PAD]
    assert chars.encode("abc", 2) == [5, 6]


def test_decode_reads_back_to_the_end_of_the_sequence():
    chars = CharVocab.of_texts(["abc"])
    assert chars.decode([BOS, 4, PAD, 5, EOS, 6]) == "ab"
    assert chars.decode(chars.encode("cab")) == "cab"
    assert chars.decode([4, 99]) == "a?"  # an id the vocabulary lacks shows, it is not dropped


def test_translation_encodes_as_the_text_pairs_importer_did(tmp_path):
    from studio.data.importers.text_pairs import load_text_pairs

    tsv = tmp_path / "pairs.tsv"
    tsv.write_text("hello\tHELLO\nworld\tWORLD\nhold\tHOLD\nlow\tLOW\nold\tOLD\n", encoding="utf-8")
    split = load_text_pairs(path=str(tsv), val_split=0.2)
    chars = CharVocab(split.info.extra["vocab"])
    for row in split.train.fields["src"].tolist():  # padded on the left, as translation pads
        assert chars.encode(chars.decode(row), len(row), left=True) == row
    assert chars.encode("hz")[1] == UNK  # a character the file never had
