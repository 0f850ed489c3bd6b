"""The offline demo: exactly what the bot answers for the demo account and the bundled sample photos.

It drives the same service layer the bot's handlers call and formats with the bot's own `texts`, in a
store of its own (`DATA_DIR/demo/`), so it needs no token and no network and never touches the bot's data.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TextIO

from app.services import open_services
from bot import texts
from core.paths import DEMO_DATA, DEMO_HANDLE, DEMO_SAMPLES
from core.settings import Settings, SourceSetting
from inference.onnx_model import ModelMismatchError
from scraping.datasets import read_accounts_jsonl

DEMO_CHAT = 1


def run_demo(settings: Settings, out: TextIO) -> None:
    # A store of its own beside the bot's: the first run computes the demo photos' vectors (half a minute),
    # later runs reuse them. The demo chat is emptied first, so every run tells the same story.
    demo_dir = settings.data_dir / "demo"
    demo_settings = settings.replaced(
        source=SourceSetting("demo"),
        db_path=demo_dir / "demo.sqlite3",
        data_dir=demo_dir,
        max_drafts=max(settings.max_drafts, 10),
    )
    asyncio.run(_conversation(demo_settings, out))


def account_header() -> str:
    """One line about the demo account, read straight from the bundled data file."""
    account = next(a for a in read_accounts_jsonl(DEMO_DATA) if a.handle == DEMO_HANDLE)
    return (
        f"Offline demo with @{account.handle} (synthetic data, see demo/README.md): followers "
        f"{account.followers:,}, following {account.following:,}, posts {account.posts_count:,}\n"
    )


async def _conversation(settings: Settings, out: TextIO) -> None:
    out.write(account_header())
    try:
        service = await open_services(settings)
    except (ImportError, ModelMismatchError) as error:
        out.write(f"\nThe models are not available ({error}); run `likepredict train` first.\n")
        return
    try:
        await service.forget(DEMO_CHAT)
        await service.index_stored_photos()  # so every answer compares with all stored photos (cached after)

        def user(action: str) -> None:
            out.write(f"\n> {action}\n")

        def bot(html: str) -> None:
            out.write(texts.plain(html) + "\n")

        user(f"/handle {DEMO_HANDLE}")
        bot(texts.account_summary(await service.set_handle(DEMO_CHAT, DEMO_HANDLE)))

        samples = sorted(DEMO_SAMPLES.glob("*.jpg"))
        for path in samples:
            user(f"[sends the photo {path.name}]")
            draft = await service.add_photo(DEMO_CHAT, path.name, path.read_bytes())
            bot(texts.photo_advice(await service.advise_draft(DEMO_CHAT, draft.id)))

        # The same photos again as one album: /best then also weighs them as a single carousel post.
        user("/clear")
        bot(texts.cleared(await service.clear(DEMO_CHAT)))
        user(f"[sends the {len(samples)} photos again, as one album]")
        for path in samples:
            await service.add_photo(DEMO_CHAT, path.name, path.read_bytes(), media_group_id="demo-album")
        status = await service.album_status(DEMO_CHAT)
        bot(texts.album_saved(len(samples), status.total_drafts, [], status.has_handle))

        user("/best")
        ranking = await service.rank_drafts(DEMO_CHAT)
        names = {d.id: Path(d.file_unique_id).name for d in (r.draft for r in ranking.drafts)}
        tiles = ", ".join(
            f"{texts.ranking_label(r.rank, r.prediction.likes)} ({names[r.draft.id]})" for r in ranking.drafts
        )
        out.write(f"[a picture of the {len(samples)} drafts side by side: {tiles}]\n")
        bot(texts.ranking_caption(ranking))
        out.write(f"[button: {texts.all_hashtags_button()}]\n")

        user(f"[presses {texts.all_hashtags_button()!r}]")
        handle, advice = await service.draft_hashtags(DEMO_CHAT, ranking.winner.draft.id)
        bot(texts.all_hashtags(handle, advice))
    finally:
        await service.aclose()
