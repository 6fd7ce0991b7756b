"""The parameter table's HTML: exact counts, activations explained on hover, nothing cut."""

import re

from explorer.config import TrainingConfig
from explorer.ui.network import ACTIVATION_MEANINGS, parameter_table_html


def test_activations_are_explained_and_the_share_may_wrap_rather_than_be_cut():
    table = parameter_table_html(TrainingConfig())
    counts = [int(n) for n in re.findall(r'data-parameters="(\d+)"', table)]
    assert counts == [784 * 400 + 400, 400 * 20 + 20, 20 * 10 + 10]
    # "relu" and "softmax" are words a student does not know: each cell says what it does.
    assert table.count(f'title="{ACTIVATION_MEANINGS["relu"]}"') == 2
    assert table.count(f'title="{ACTIVATION_MEANINGS["softmax"]}"') == 1
    # Only the share keeps together: the cell itself wraps ("314,000 (97.4%" was cut).
    assert 'white-space:nowrap"><span' not in table
    assert '314,000 <span style="white-space:nowrap">(97.4%)</span>' in table
    # The table scrolls sideways where it must, and the keyboard can reach it.
    assert 'role="region"' in table and 'tabindex="0"' in table
