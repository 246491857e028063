"""The demo sessions: what happens in them, written as code so the shipped JSONL stays consistent.

Regenerate the files under `memtui/demo/sessions/` after changing anything here with

    python -m memtui.demo._sessions

(tests/core/test_demo.py checks that the shipped files equal what this module renders). The two
projects and the person are fictional; the fake API key in `invoice_perf` exists to show that
memtui redacts secrets at import.

What each session plants, for checking an extractor against (kind → statement):

invoice-api, Claude Code, 2026-02-09 "Fix invoice rounding: store money as integer cents"
  bug_fix          tests/test_totals.py::test_total_with_discount failed (assert 42.59 == 42.6): float
                   arithmetic in invoice_total; fixed by integer-cent arithmetic in src/invoice_api/totals.py,
                   the re-run passes (6 passed)
  preference       don't use print for logging, use structlog (user correction after a rejected Edit)
  decision         store money as integer cents in the DB, discounts as basis points; convert to a decimal
                   string only at the API edge (format_cents) -- because float rounding broke totals
  preference       small focused commits (migration committed separately from the fix)
  fact/command     tests: `uv run pytest`; migrations: `uv run alembic upgrade head`
  todo             CSV export (reports/export.py) still reads the float column; backfill archived invoices
invoice-api, Claude Code, 2026-02-12 "Speed up customer invoice list with one tax-rate query"
  failed_approach  functools.lru_cache on TaxService.rate_for (a method taking the DB session): cached ORM
                   objects outlived their session (DetachedInstanceError) and stale rates leaked between
                   requests; reverted
  decision         batch the tax-rate lookup: one query per request (TaxService.rates_for), no caching of ORM
                   objects across sessions; caching, if ever, per request
  constraint       must run on Python 3.10 (production image and ops box); no tomllib or other 3.11-only APIs
  fact/command     `uv run ruff check .`, `uv run ruff format --check .`; bench 905 ms -> 84 ms
  secret           a fake Anthropic key pasted by the user and written to .env (must arrive redacted)
  todo             index on tax_rate.region; a query-count regression test
invoice-api, Codex, 2026-02-17 "CSV export reads integer cents"
  bug_fix          tests/test_export.py failed with KeyError: 'unit_price' after the cents migration; fixed in
                   src/invoice_api/reports/export.py
  convention       money in CSV is written with format_cents ("12.34"), never floats; log with structlog
  preference       (reinforced) small focused commits; no pandas for the export, stdlib csv is enough
trailmap, Claude Code, 2026-03-03 "Add GPX export command with hand-written XML escaping"
  preference       use pnpm, never npm (a rejected `npm install` and the user's correction)
  failed_approach  fast-xml-parser added then removed: runtime dependencies are kept minimal because the CLI
                   ships as one bundled file
  convention       each subcommand in src/commands/<name>.ts exports register(program); tests mirror it in
                   test/commands/<name>.test.ts; relative ESM imports end in .js
  bug_fix          escapeXml double-escaped entities (vitest: expected 'Fish &amp;lt;...'); & must be
                   replaced first
  preference       always run `pnpm typecheck` before saying something is done (vitest doesn't type-check)
  todo             --output flag, README section, KML
trailmap, Codex, 2026-03-06 "Elevation gain counts GPS noise"
  decision         smooth elevation with a centred 5-sample moving average and ignore climbs under 3 m before
                   summing gain, because raw GPS noise doubled the total (1,240 m vs 612 m)
  bug_fix          the smoothing divided edge windows by 5 (vitest: expected 37.2 to be less than 5); divide by
                   the number of samples actually in the window
  preference       no new CLI flags for tuning; keep the CLI surface small
  todo             apply the same smoothing to elevation loss
"""

from __future__ import annotations

import sys
from pathlib import Path

from memtui.demo._fmt import ClaudeSession, CodexRollout

INVOICE = "/home/dev/projects/invoice-api"
TRAILMAP = "/home/dev/projects/trailmap"

# A deliberately fake key in the real key's shape: memtui must store it as [REDACTED:...].
FAKE_ANTHROPIC_KEY = "sk-ant-api03-DEMO0nly-n0tARealKey-Xq7vB2mLp9TzR4wK8cYh3JdF6gNs1VaE5uRk0MiZ-demoDEMOdemo4Ux"


# --- invoice-api: the files the sessions read and edit ----------------------------------------------

MODELS_PY = '''"""ORM models. SQLAlchemy 2.0 style, one module for the whole schema."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, ForeignKey, Numeric, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class Customer(Base):
    __tablename__ = "customer"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    region: Mapped[str] = mapped_column(String(8), default="EU-DE")
    invoices: Mapped[list[Invoice]] = relationship(back_populates="customer")


class Invoice(Base):
    __tablename__ = "invoice"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"))
    issued_on: Mapped[date] = mapped_column(Date)
    discount_pct: Mapped[float] = mapped_column(Numeric(5, 2, asdecimal=False), default=0.0)
    customer: Mapped[Customer] = relationship(back_populates="invoices")
    lines: Mapped[list[LineItem]] = relationship(back_populates="invoice", order_by="LineItem.id")


class LineItem(Base):
    __tablename__ = "line_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoice.id"))
    sku: Mapped[str] = mapped_column(String(32))
    quantity: Mapped[int]
    unit_price: Mapped[float] = mapped_column(Numeric(10, 2, asdecimal=False))
    region: Mapped[str] = mapped_column(String(8), default="EU-DE")
    invoice: Mapped[Invoice] = relationship(back_populates="lines")


class TaxRate(Base):
    __tablename__ = "tax_rate"

    id: Mapped[int] = mapped_column(primary_key=True)
    region: Mapped[str] = mapped_column(String(8))
    percent: Mapped[float] = mapped_column(Numeric(5, 2, asdecimal=False))
'''

TOTALS_PY = '''"""Invoice arithmetic: line totals, discounts."""

from __future__ import annotations

from invoice_api.models import Invoice, LineItem


def line_total(line: LineItem) -> float:
    return line.quantity * line.unit_price


def invoice_total(lines: list[LineItem], discount_pct: float = 0.0) -> float:
    subtotal = sum(line_total(line) for line in lines)
    return round(subtotal * (1 - discount_pct / 100), 2)


def invoice_summary(invoice: Invoice) -> dict[str, float]:
    subtotal = sum(line_total(line) for line in invoice.lines)
    return {"subtotal": subtotal, "total": invoice_total(invoice.lines, invoice.discount_pct)}
'''

TOTALS_PY_CENTS = '''"""Invoice arithmetic. Every amount is integer cents; discounts are basis points (1250 = 12.5 %)."""

from __future__ import annotations

import structlog

from invoice_api.models import Invoice, LineItem

log = structlog.get_logger(__name__)


def line_total_cents(line: LineItem) -> int:
    return line.quantity * line.unit_price_cents


def apply_discount(amount_cents: int, discount_bp: int) -> int:
    """The discounted amount, rounded half up to the cent, in integer arithmetic only."""
    return (amount_cents * (10_000 - discount_bp) + 5_000) // 10_000


def invoice_total(lines: list[LineItem], discount_bp: int = 0) -> int:
    subtotal = sum(line_total_cents(line) for line in lines)
    total = apply_discount(subtotal, discount_bp)
    log.debug("invoice_total", subtotal_cents=subtotal, discount_bp=discount_bp, total_cents=total)
    return total


def invoice_summary(invoice: Invoice) -> dict[str, int]:
    subtotal = sum(line_total_cents(line) for line in invoice.lines)
    return {"subtotal_cents": subtotal, "total_cents": apply_discount(subtotal, invoice.discount_bp)}
'''

TEST_TOTALS_PY = '''from invoice_api.models import LineItem
from invoice_api.totals import invoice_total


def _line(sku: str, quantity: int, unit_price: float) -> LineItem:
    return LineItem(sku=sku, quantity=quantity, unit_price=unit_price)


def test_empty_invoice_is_zero():
    assert invoice_total([]) == 0


def test_single_line():
    assert invoice_total([_line("A-100", 3, 19.99)]) == 59.97


def test_two_lines():
    assert invoice_total([_line("A-100", 1, 19.99), _line("B-200", 4, 4.35)]) == 37.39


def test_total_with_discount():
    lines = [_line("A-100", 2, 19.99), _line("B-200", 2, 4.35)]
    assert invoice_total(lines, discount_pct=12.5) == 42.60


def test_full_discount():
    assert invoice_total([_line("A-100", 1, 19.99)], discount_pct=100) == 0


def test_no_discount_keeps_cents():
    assert invoice_total([_line("C-300", 7, 0.35)]) == 2.45
'''

TEST_TOTALS_PY_CENTS = '''from invoice_api.models import LineItem
from invoice_api.totals import apply_discount, invoice_total


def _line(sku: str, quantity: int, unit_price_cents: int) -> LineItem:
    return LineItem(sku=sku, quantity=quantity, unit_price_cents=unit_price_cents)


def test_empty_invoice_is_zero():
    assert invoice_total([]) == 0


def test_single_line():
    assert invoice_total([_line("A-100", 3, 1999)]) == 5997


def test_two_lines():
    assert invoice_total([_line("A-100", 1, 1999), _line("B-200", 4, 435)]) == 3739


def test_total_with_discount():
    # 2 x 19.99 + 2 x 4.35 = 48.68; minus 12.5 % = 42.595, which rounds half up to 42.60.
    lines = [_line("A-100", 2, 1999), _line("B-200", 2, 435)]
    assert invoice_total(lines, discount_bp=1250) == 4260


def test_full_discount():
    assert invoice_total([_line("A-100", 1, 1999)], discount_bp=10_000) == 0


def test_discount_rounds_half_up():
    assert apply_discount(1, 5_000) == 1
    assert apply_discount(3, 5_000) == 2
'''

SCHEMAS_PY = '''"""Response schemas. Everything the API returns goes through these models."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict


class LineItemOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    sku: str
    quantity: int
    unit_price: float


class InvoiceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    issued_on: date
    lines: list[LineItemOut]
    total: float
'''

MIGRATION_STUB = '''"""store money as integer cents

Revision ID: 7c2f9a1d4b3e
Revises: 3b1e0c9d2a77
Create Date: 2026-02-09 09:41:07.512203

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "7c2f9a1d4b3e"
down_revision = "3b1e0c9d2a77"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
'''

MIGRATION = '''"""store money as integer cents

Revision ID: 7c2f9a1d4b3e
Revises: 3b1e0c9d2a77
Create Date: 2026-02-09 09:41:07.512203

Float prices made invoice totals drift by a cent; amounts are integer cents from here on and
discounts are basis points. Existing rows are converted with ROUND so 19.99 becomes 1999.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "7c2f9a1d4b3e"
down_revision = "3b1e0c9d2a77"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("line_item", sa.Column("unit_price_cents", sa.Integer(), nullable=True))
    op.execute("UPDATE line_item SET unit_price_cents = CAST(ROUND(unit_price * 100) AS INTEGER)")
    op.alter_column("line_item", "unit_price_cents", nullable=False)
    op.drop_column("line_item", "unit_price")

    op.add_column("invoice", sa.Column("discount_bp", sa.Integer(), nullable=False, server_default="0"))
    op.execute("UPDATE invoice SET discount_bp = CAST(ROUND(discount_pct * 100) AS INTEGER)")
    op.drop_column("invoice", "discount_pct")


def downgrade() -> None:
    op.add_column("invoice", sa.Column("discount_pct", sa.Numeric(5, 2), nullable=False, server_default="0"))
    op.execute("UPDATE invoice SET discount_pct = discount_bp / 100.0")
    op.drop_column("invoice", "discount_bp")

    op.add_column("line_item", sa.Column("unit_price", sa.Numeric(10, 2), nullable=True))
    op.execute("UPDATE line_item SET unit_price = unit_price_cents / 100.0")
    op.alter_column("line_item", "unit_price", nullable=False)
    op.drop_column("line_item", "unit_price_cents")
'''

def invoice_rounding() -> ClaudeSession:
    s = ClaudeSession(
        seed="demo-invoice-rounding", cwd=INVOICE, branch="fix/rounding", version="2.1.27",
        model="claude-sonnet-4-5-20250929", start="2026-02-09T09:12:04.318Z",
        files={
            "src/invoice_api/models.py": MODELS_PY,
            "src/invoice_api/totals.py": TOTALS_PY,
            "src/invoice_api/schemas.py": SCHEMAS_PY,
            "tests/test_totals.py": TEST_TOTALS_PY,
        },
    )
    s.user("CI is red on main: tests/test_totals.py::test_total_with_discount fails, the invoice total comes out "
           "one cent short. Can you find out why and fix it? We run the tests with `uv run pytest`.", wait=0)
    s.bash(
        "uv run pytest tests/test_totals.py -q", "Run the failing totals tests",
        (
            "...F..                                                                   [100%]\n"
            "=================================== FAILURES ===================================\n"
            "___________________________ test_total_with_discount ___________________________\n"
            "\n"
            "    def test_total_with_discount():\n"
            "        lines = [_line(\"A-100\", 2, 19.99), _line(\"B-200\", 2, 4.35)]\n"
            ">       assert invoice_total(lines, discount_pct=12.5) == 42.60\n"
            "E       assert 42.59 == 42.6\n"
            "E        +  where 42.59 = invoice_total([<invoice_api.models.LineItem object at 0x7f2b9c3e1d90>, "
            "<invoice_api.models.LineItem object at 0x7f2b9c3e1e50>], discount_pct=12.5)\n"
            "\n"
            "tests/test_totals.py:23: AssertionError\n"
            "=========================== short test summary info ============================\n"
            "FAILED tests/test_totals.py::test_total_with_discount - assert 42.59 == 42.6\n"
            "1 failed, 5 passed in 0.23s"
        ),
        exit_code=1, runtime=3.1,
        thinking="The user says one totals test fails by a cent. Reproduce it first to see the exact assertion, "
                 "then look at how totals are computed.",
        text="I'll reproduce the failure first.",
    )
    s.read("src/invoice_api/totals.py", text="Reproduced: 42.59 instead of 42.60. Let me look at how totals are computed.")
    s.read("src/invoice_api/models.py")
    s.edit(
        "src/invoice_api/totals.py",
        "    subtotal = sum(line_total(line) for line in lines)\n    return round(",
        "    subtotal = sum(line_total(line) for line in lines)\n"
        "    print(f\"subtotal={subtotal!r} discounted={subtotal * (1 - discount_pct / 100)!r}\")\n    return round(",
        thinking="unit_price is a float (Numeric with asdecimal=False) and the total is computed in float "
                 "arithmetic, then rounded with round(). 2 x 19.99 + 2 x 4.35 = 48.68, times 0.875 = 42.595 exactly "
                 "in decimal, but the float is probably slightly below .595 so round() goes down. Let me print the "
                 "intermediate values to confirm.",
        text="Let me print the intermediate values to confirm the suspicion.",
        reject=True,
    )
    s.interrupted()
    s.user("Don't use print for logging in this codebase, we use structlog — every module has "
           "`log = structlog.get_logger(__name__)`. And you don't need to touch the file to check a float, "
           "just use the interpreter.", wait=35)
    s.bash(
        "uv run python -c \"s = 2 * 19.99 + 2 * 4.35; print(repr(s)); print(repr(s * (1 - 12.5 / 100)))\"",
        "Show the float intermediate values",
        "48.67999999999999\n42.59499999999999",
        text="Understood: no print() in the code, structlog only. Checking in the interpreter instead:",
    )
    s.say(
        "That's the bug. The subtotal is already `48.67999999999999` in binary floating point, so the discounted "
        "amount is `42.59499999999999` instead of 42.595 and `round(..., 2)` rounds it down to 42.59. Any total "
        "that lands on a half cent can go either way depending on float noise.\n\n"
        "Two ways to fix it for good:\n"
        "1. **`Decimal` everywhere** — exact, but the ORM columns, pydantic models and every call site have to "
        "agree on Decimal, and mixing it with float raises or silently converts.\n"
        "2. **Integer cents** — store `unit_price_cents` (INTEGER) and the discount in basis points, do all "
        "arithmetic on ints with an explicit half-up rounding, and turn cents into a decimal string only when "
        "the API serialises a response.\n\n"
        "I'd go with integer cents. Which do you prefer?",
        thinking="Explain the root cause with the numbers, give the two standard fixes and recommend one. Integer "
                 "cents is simpler for the DB (INTEGER column), for JSON, and avoids Decimal/float mixups.",
    )
    s.user("Go with integer cents. Store money as integer cents in the DB and only convert to a decimal string at "
           "the API edge — float rounding already broke totals once and I don't want Decimal/float mixups either. "
           "Discounts as basis points.", wait=70)
    s.todo([
        ("Store line item prices as integer cents (unit_price_cents)", "in_progress", "Storing line item prices as integer cents"),
        ("Rewrite totals with integer arithmetic and half-up rounding", "pending", "Rewriting totals with integer arithmetic"),
        ("Update tests for cents and basis points", "pending", "Updating tests for cents and basis points"),
        ("Format cents as decimal strings in the API schemas", "pending", "Formatting cents in the API schemas"),
        ("Alembic migration converting existing prices to cents", "pending", "Writing the Alembic migration"),
        ("Run the full test suite", "pending", "Running the full test suite"),
    ], text="Integer cents it is. Here's the plan:")
    s.edit(
        "src/invoice_api/models.py",
        "    discount_pct: Mapped[float] = mapped_column(Numeric(5, 2, asdecimal=False), default=0.0)\n",
        "    discount_bp: Mapped[int] = mapped_column(default=0)  # basis points: 1250 = 12.5 %\n",
    )
    s.edit(
        "src/invoice_api/models.py",
        "    unit_price: Mapped[float] = mapped_column(Numeric(10, 2, asdecimal=False))\n",
        "    unit_price_cents: Mapped[int]  # money is always integer cents\n",
    )
    s.write("src/invoice_api/totals.py", TOTALS_PY_CENTS,
            text="Now the arithmetic. Everything stays in ints; the discount rounds half up with `+ 5_000` before "
                 "the floor division, and the debug line goes through structlog.")
    s.read("tests/test_totals.py")
    s.write("tests/test_totals.py", TEST_TOTALS_PY_CENTS,
            text="Updating the tests to cents, with a comment on the case that used to fail and a test for the "
                 "half-up rounding:")
    s.bash(
        "uv run pytest tests/test_totals.py -q", "Re-run the totals tests",
        "......                                                                   [100%]\n6 passed in 0.19s",
        runtime=2.8,
    )
    s.bash(
        "grep -rn \"unit_price\\b\\|discount_pct\" src tests",
        "Find remaining uses of the float columns",
        "src/invoice_api/schemas.py:15:    unit_price: float\n"
        "src/invoice_api/reports/export.py:31:            f\"{line.unit_price:.2f}\",\n"
        "tests/test_api.py:58:    assert body[\"lines\"][0][\"unit_price\"] == \"19.99\"",
        text="Totals pass. Let me find what else still reads the old float columns.",
    )
    s.read("src/invoice_api/schemas.py")
    s.edit(
        "src/invoice_api/schemas.py",
        "from pydantic import BaseModel, ConfigDict\n\n\nclass LineItemOut(BaseModel):\n"
        "    model_config = ConfigDict(from_attributes=True)\n\n    sku: str\n    quantity: int\n"
        "    unit_price: float\n",
        "from pydantic import BaseModel, ConfigDict, Field, computed_field\n\n\n"
        "def format_cents(cents: int) -> str:\n"
        "    \"\"\"1999 -> '19.99'. The one place where money becomes a decimal string.\"\"\"\n"
        "    sign = \"-\" if cents < 0 else \"\"\n"
        "    return f\"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}\"\n\n\n"
        "class LineItemOut(BaseModel):\n"
        "    model_config = ConfigDict(from_attributes=True)\n\n    sku: str\n    quantity: int\n"
        "    unit_price_cents: int = Field(exclude=True)\n\n"
        "    @computed_field\n    @property\n    def unit_price(self) -> str:\n"
        "        return format_cents(self.unit_price_cents)\n",
        text="The API test already expects `\"19.99\"` as a string, so the schema formats cents at the edge:",
    )
    s.edit(
        "src/invoice_api/schemas.py",
        "    lines: list[LineItemOut]\n    total: float\n",
        "    lines: list[LineItemOut]\n    total_cents: int = Field(exclude=True)\n\n"
        "    @computed_field\n    @property\n    def total(self) -> str:\n"
        "        return format_cents(self.total_cents)\n",
    )
    s.bash(
        "uv run alembic revision -m \"store money as integer cents\"", "Create the migration",
        "  Generating /home/dev/projects/invoice-api/migrations/versions/7c2f9a1d4b3e_store_money_as_integer_cents.py"
        " ...  done",
        text="Now the migration for existing rows.",
    )
    s.fs["migrations/versions/7c2f9a1d4b3e_store_money_as_integer_cents.py"] = MIGRATION_STUB
    s.read("migrations/versions/7c2f9a1d4b3e_store_money_as_integer_cents.py")
    s.write("migrations/versions/7c2f9a1d4b3e_store_money_as_integer_cents.py", MIGRATION)
    s.bash(
        "uv run alembic upgrade head", "Apply the migration to the dev database",
        "",
        stderr="INFO  [alembic.runtime.migration] Context impl PostgresqlImpl.\n"
               "INFO  [alembic.runtime.migration] Will assume transactional DDL.\n"
               "INFO  [alembic.runtime.migration] Running upgrade 3b1e0c9d2a77 -> 7c2f9a1d4b3e, store money as "
               "integer cents",
        runtime=1.6,
    )
    s.bash(
        "uv run pytest -q", "Run the full test suite",
        "................................................                         [100%]\n48 passed in 3.41s",
        runtime=5.2,
    )
    s.say("All 48 tests pass and the migration applies cleanly on the dev database. Want me to commit?")
    s.user("Nice. I prefer small focused commits — commit the migration separately from the totals fix, please.",
           wait=50)
    s.bash(
        "git add src/invoice_api/models.py src/invoice_api/totals.py src/invoice_api/schemas.py tests/test_totals.py"
        " && git commit -m \"Compute invoice totals in integer cents\" -m \"Float arithmetic made 42.595 round down to"
        " 42.59. Prices are unit_price_cents, discounts basis points; the API formats cents at the edge.\"",
        "Commit the totals fix",
        "[fix/rounding 4e1a9c2] Compute invoice totals in integer cents\n 4 files changed, 61 insertions(+), 27 deletions(-)",
    )
    s.bash(
        "git add migrations/versions/7c2f9a1d4b3e_store_money_as_integer_cents.py && git commit -m \"Migrate prices"
        " and discounts to integer cents and basis points\"",
        "Commit the migration separately",
        "[fix/rounding 9b07d3e] Migrate prices and discounts to integer cents and basis points\n"
        " 1 file changed, 44 insertions(+)\n"
        " create mode 100644 migrations/versions/7c2f9a1d4b3e_store_money_as_integer_cents.py",
    )
    s.todo([
        ("Store line item prices as integer cents (unit_price_cents)", "completed", "Storing line item prices as integer cents"),
        ("Rewrite totals with integer arithmetic and half-up rounding", "completed", "Rewriting totals with integer arithmetic"),
        ("Update tests for cents and basis points", "completed", "Updating tests for cents and basis points"),
        ("Format cents as decimal strings in the API schemas", "completed", "Formatting cents in the API schemas"),
        ("Alembic migration converting existing prices to cents", "completed", "Writing the Alembic migration"),
        ("Run the full test suite", "completed", "Running the full test suite"),
        ("Switch the CSV export (reports/export.py) to unit_price_cents", "pending", "Switching the CSV export to cents"),
        ("Backfill archived invoices in the reporting database", "pending", "Backfilling archived invoices"),
    ])
    s.say(
        "Done. Summary of this session:\n\n"
        "- **Root cause**: totals were computed in float arithmetic; 2 × 19.99 + 2 × 4.35 with a 12.5 % discount is "
        "42.595, which is `42.59499999999999` as a float, so `round()` gave 42.59.\n"
        "- **Decision**: money is stored as integer cents (`LineItem.unit_price_cents`) and discounts as basis points "
        "(`Invoice.discount_bp`); all arithmetic is on ints with half-up rounding in `apply_discount`, and cents "
        "become decimal strings only at the API edge (`format_cents` in `schemas.py`).\n"
        "- **Fix**: `test_total_with_discount` passes; full suite 48 passed.\n"
        "- **Migration** `7c2f9a1d4b3e` converts existing rows; applied to the dev DB with `uv run alembic upgrade head`.\n"
        "- **Commits** on `fix/rounding`: `4e1a9c2` (totals in cents) and `9b07d3e` (migration), kept separate.\n\n"
        "Still open:\n"
        "- `reports/export.py` still formats `line.unit_price` — the CSV export will break until it reads "
        "`unit_price_cents`.\n"
        "- Archived invoices in the reporting database need the same conversion (backfill).",
        wait=5,
    )
    s.summary("Fix invoice rounding: store money as integer cents")
    s.turn_duration(412_870, 58)
    return s


# --- invoice-api: slow invoice list --------------------------------------------------------------

TAX_PY = '''"""Tax rates per region."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from invoice_api.models import TaxRate


class UnknownRegion(LookupError):
    pass


class TaxService:
    def __init__(self, default_region: str = "EU-DE") -> None:
        self.default_region = default_region

    def rate_for(self, db: Session, region: str) -> TaxRate:
        rate = db.scalar(select(TaxRate).where(TaxRate.region == region))
        if rate is None:
            raise UnknownRegion(region)
        return rate
'''

CUSTOMERS_PY = '''"""/customers routes."""

from __future__ import annotations

import structlog
from fastapi import APIRouter, Depends
from sqlalchemy.orm import Session

from invoice_api.db import get_db
from invoice_api.models import Customer
from invoice_api.schemas import CustomerInvoicesOut
from invoice_api.services.tax import TaxService

router = APIRouter(prefix="/customers", tags=["customers"])
log = structlog.get_logger(__name__)
tax = TaxService()


@router.get("/{customer_id}/invoices", response_model=CustomerInvoicesOut)
def list_invoices(customer_id: int, db: Session = Depends(get_db)) -> CustomerInvoicesOut:
    customer = db.get_one(Customer, customer_id)
    rows = []
    for invoice in customer.invoices:
        for line in invoice.lines:
            rate = tax.rate_for(db, line.region)
            rows.append((invoice, line, rate))
    log.info("list_invoices", customer_id=customer_id, lines=len(rows))
    return CustomerInvoicesOut.from_rows(customer, rows)
'''

BENCH_PY = '''"""Time GET /customers/{id}/invoices against the dev database.

    uv run python scripts/bench_invoices.py --customer 1042
"""

from __future__ import annotations

import argparse
import statistics
import time
import tomllib
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import event

from invoice_api.db import engine
from invoice_api.main import app


def main() -> None:
    defaults = tomllib.loads(Path("bench.toml").read_text())["invoices"] if Path("bench.toml").exists() else {}
    parser = argparse.ArgumentParser()
    parser.add_argument("--customer", type=int, default=defaults.get("customer", 1042))
    parser.add_argument("--runs", type=int, default=defaults.get("runs", 20))
    args = parser.parse_args()

    statements = 0

    @event.listens_for(engine, "before_cursor_execute")
    def count(*_):
        nonlocal statements
        statements += 1

    client = TestClient(app)
    timings = []
    for _ in range(args.runs):
        statements = 0
        start = time.perf_counter()
        response = client.get(f"/customers/{args.customer}/invoices")
        timings.append((time.perf_counter() - start) * 1000)
        response.raise_for_status()
    invoices = len(response.json()["invoices"])
    p95 = statistics.quantiles(timings, n=20)[-1]
    print(f"customer {args.customer}: {invoices} invoices, median {statistics.median(timings):.1f} ms "
          f"over {args.runs} runs (p95 {p95:.1f} ms), {statements} SQL statements per request")


if __name__ == "__main__":
    main()
'''

ENV_FILE = '''# Local development settings (never committed: .env is in .gitignore)
DATABASE_URL=postgresql+psycopg://invoice:invoice-dev-pw@localhost:5432/invoice
LOG_LEVEL=debug
ANTHROPIC_API_KEY=
CATEGORIZER_MODEL=claude-haiku-4-5
'''


def invoice_perf() -> ClaudeSession:
    s = ClaudeSession(
        seed="demo-invoice-perf", cwd=INVOICE, branch="perf/invoice-list", version="2.1.31",
        model="claude-opus-4-5-20251101", start="2026-02-12T14:03:51.902Z",
        files={
            "src/invoice_api/services/tax.py": TAX_PY,
            "src/invoice_api/routes/customers.py": CUSTOMERS_PY,
            ".env": ENV_FILE,
        },
    )
    s.user("GET /customers/{id}/invoices takes ~900 ms for customers with a lot of invoices. Find out why and make "
           "it faster, without changing the response shape.", wait=0)
    s.read("src/invoice_api/routes/customers.py",
           thinking="Slow list endpoint. Look at the route first, then whatever it calls per row.",
           text="Let me look at the endpoint and what it calls.")
    s.read("src/invoice_api/services/tax.py")
    s.write("scripts/bench_invoices.py", BENCH_PY,
            thinking="rate_for runs one SELECT per line item: a classic N+1. Before changing anything, get a "
                     "repeatable number: time the endpoint with TestClient and count SQL statements.",
            text="`list_invoices` calls `tax.rate_for(db, line.region)` for every line item, and each call is a "
                 "query. Before changing anything I'll add a small benchmark so we have a number to compare.")
    s.bash(
        "uv run python scripts/bench_invoices.py --customer 1042", "Baseline timing of the invoice list",
        "customer 1042: 312 invoices, median 912.4 ms over 20 runs (p95 981.0 ms), 1189 SQL statements per request",
        runtime=21.4,
    )
    s.say("Baseline: **912 ms median and 1,189 SQL statements** for one request — 1,187 of them are the same "
          "tax-rate lookup.")
    s.user("Quick note before you go on: all of this must run on Python 3.10 — the production image and the ops box "
           "are still on 3.10. So no tomllib or other 3.11-only stuff, even in scripts.", wait=45)
    s.edit(
        "scripts/bench_invoices.py",
        "import time\nimport tomllib\nfrom pathlib import Path\n",
        "import time\n",
        thinking="tomllib is 3.11+. The toml defaults are not needed, argparse defaults are enough.",
        text="Right, `tomllib` is 3.11+. The defaults file wasn't worth it anyway; plain argparse defaults:",
    )
    s.edit(
        "scripts/bench_invoices.py",
        "    defaults = tomllib.loads(Path(\"bench.toml\").read_text())[\"invoices\"] if Path(\"bench.toml\").exists() else {}\n"
        "    parser = argparse.ArgumentParser()\n"
        "    parser.add_argument(\"--customer\", type=int, default=defaults.get(\"customer\", 1042))\n"
        "    parser.add_argument(\"--runs\", type=int, default=defaults.get(\"runs\", 20))\n",
        "    parser = argparse.ArgumentParser()\n"
        "    parser.add_argument(\"--customer\", type=int, default=1042)\n"
        "    parser.add_argument(\"--runs\", type=int, default=20)\n",
    )
    s.bash(
        "uv run --python 3.10 python scripts/bench_invoices.py --customer 1042",
        "Run the benchmark under Python 3.10",
        "customer 1042: 312 invoices, median 905.8 ms over 20 runs (p95 969.3 ms), 1189 SQL statements per request",
        runtime=20.9,
        text="And checking it really runs on 3.10:",
    )
    s.edit(
        "src/invoice_api/services/tax.py",
        "from __future__ import annotations\n\nfrom sqlalchemy import select\n",
        "from __future__ import annotations\n\nimport functools\n\nfrom sqlalchemy import select\n",
        thinking="Simplest fix: memoize rate_for. Rates change rarely. functools.lru_cache on the method.",
        text="Tax rates rarely change, so the quickest win is to memoize the lookup.",
    )
    s.edit(
        "src/invoice_api/services/tax.py",
        "    def rate_for(self, db: Session, region: str) -> TaxRate:\n",
        "    @functools.lru_cache(maxsize=256)\n    def rate_for(self, db: Session, region: str) -> TaxRate:\n",
    )
    s.bash(
        "uv run pytest -q", "Run the test suite with the cached lookup",
        "....F.....F.........................................                     [100%]\n"
        "=================================== FAILURES ===================================\n"
        "_____________________ test_invoice_list_uses_current_rate ______________________\n"
        "\n"
        "client = <starlette.testclient.TestClient object at 0x7f3a2c1d9e50>\n"
        "db_session = <sqlalchemy.orm.session.Session object at 0x7f3a2c1daa10>\n"
        "\n"
        "    def test_invoice_list_uses_current_rate(client, db_session):\n"
        "        db_session.execute(update(TaxRate).where(TaxRate.region == \"EU-DE\").values(percent=19))\n"
        "        db_session.commit()\n"
        "        body = client.get(\"/customers/7/invoices\").json()\n"
        ">       assert body[\"invoices\"][0][\"tax_rate\"] == \"19.00\"\n"
        "E       AssertionError: assert '7.00' == '19.00'\n"
        "E         \n"
        "E         - 19.00\n"
        "E         + 7.00\n"
        "\n"
        "tests/test_customers.py:41: AssertionError\n"
        "____________________________ test_tax_rate_refresh _____________________________\n"
        "\n"
        "    def test_tax_rate_refresh(db_session):\n"
        "        service = TaxService()\n"
        "        first = service.rate_for(db_session, \"EU-FR\")\n"
        "        db_session.close()\n"
        ">       assert service.rate_for(new_session(), \"EU-FR\").percent == first.percent\n"
        "\n"
        "tests/test_tax.py:18: \n"
        "_ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ \n"
        ".venv/lib/python3.12/site-packages/sqlalchemy/orm/attributes.py:566: in __get__\n"
        "    return self.impl.get(state, dict_)  # type: ignore[no-any-return]\n"
        ".venv/lib/python3.12/site-packages/sqlalchemy/orm/attributes.py:1086: in get\n"
        "    value = self._fire_loader_callables(state, key, passive)\n"
        ".venv/lib/python3.12/site-packages/sqlalchemy/orm/state.py:810: in _load_expired\n"
        "    self.manager.expired_attribute_loader(self, toload, passive)\n"
        "_ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ \n"
        "E   sqlalchemy.orm.exc.DetachedInstanceError: Instance <TaxRate at 0x7f3a2c0b6d10> is not bound to a "
        "Session; attribute refresh operation cannot proceed (Background on this error at: "
        "https://sqlalche.me/e/20/bhk3)\n"
        "=========================== short test summary info ============================\n"
        "FAILED tests/test_customers.py::test_invoice_list_uses_current_rate - AssertionError: assert '7.00' == '19.00'\n"
        "FAILED tests/test_tax.py::test_tax_rate_refresh - sqlalchemy.orm.exc.DetachedInstanceError: Instance "
        "<TaxRate at 0x7f3a2c0b6d10> is not bound to a Session; attribute refresh operation cannot proceed "
        "(Background on this error at: https://sqlalche.me/e/20/bhk3)\n"
        "2 failed, 50 passed in 3.87s",
        exit_code=1, runtime=5.6,
    )
    s.edit(
        "src/invoice_api/services/tax.py",
        "    @functools.lru_cache(maxsize=256)\n    def rate_for(self, db: Session, region: str) -> TaxRate:\n",
        "    def rate_for(self, db: Session, region: str) -> TaxRate:\n",
        thinking="Both failures come from the cache. lru_cache on a method keys on (self, db, region): the cache is "
                 "process-wide, so a TaxRate loaded in one session is handed out after that session closed "
                 "(DetachedInstanceError), and a rate changed in the DB is never seen again (stale 7.00). It also "
                 "keeps every Session it ever saw alive. Caching ORM objects across sessions is wrong here; revert "
                 "and fix the N+1 instead.",
        text="That approach is wrong, and the failures show why: `lru_cache` on a method that takes the DB session "
             "keys on `(self, db, region)` and lives for the whole process. Cached `TaxRate` objects outlive the "
             "session that loaded them (`DetachedInstanceError`), rate changes are never seen (the stale `7.00`), "
             "and every session passed in is kept alive by the cache. Reverting it.",
    )
    s.edit(
        "src/invoice_api/services/tax.py",
        "from __future__ import annotations\n\nimport functools\n\nfrom sqlalchemy import select\n",
        "from __future__ import annotations\n\nfrom sqlalchemy import select\n",
    )
    s.user("Agreed, revert it. Let's not cache ORM objects across sessions at all — if we ever need caching it "
           "should be per request.", wait=40)
    s.edit(
        "src/invoice_api/services/tax.py",
        "        if rate is None:\n            raise UnknownRegion(region)\n        return rate\n",
        "        if rate is None:\n            raise UnknownRegion(region)\n        return rate\n\n"
        "    def rates_for(self, db: Session, regions: Iterable[str]) -> dict[str, TaxRate]:\n"
        "        \"\"\"All rates needed for one request, in one query.\"\"\"\n"
        "        wanted = set(regions)\n"
        "        rates = {r.region: r for r in db.scalars(select(TaxRate).where(TaxRate.region.in_(wanted)))}\n"
        "        missing = wanted - rates.keys()\n"
        "        if missing:\n"
        "            raise UnknownRegion(\", \".join(sorted(missing)))\n"
        "        return rates\n",
        text="Reverted. Instead of caching, the route will fetch every rate it needs in one query:",
    )
    s.edit(
        "src/invoice_api/services/tax.py",
        "from __future__ import annotations\n\nfrom sqlalchemy import select\n",
        "from __future__ import annotations\n\nfrom collections.abc import Iterable\n\nfrom sqlalchemy import select\n",
    )
    s.edit(
        "src/invoice_api/routes/customers.py",
        "    customer = db.get_one(Customer, customer_id)\n    rows = []\n    for invoice in customer.invoices:\n"
        "        for line in invoice.lines:\n            rate = tax.rate_for(db, line.region)\n"
        "            rows.append((invoice, line, rate))\n",
        "    customer = db.get_one(Customer, customer_id, options=[selectinload(Customer.invoices).selectinload(Invoice.lines)])\n"
        "    lines = [(invoice, line) for invoice in customer.invoices for line in invoice.lines]\n"
        "    rates = tax.rates_for(db, {line.region for _, line in lines})\n"
        "    rows = [(invoice, line, rates[line.region]) for invoice, line in lines]\n",
    )
    s.edit(
        "src/invoice_api/routes/customers.py",
        "from sqlalchemy.orm import Session\n\nfrom invoice_api.db import get_db\nfrom invoice_api.models import Customer\n",
        "from sqlalchemy.orm import Session, selectinload\n\nfrom invoice_api.db import get_db\n"
        "from invoice_api.models import Customer, Invoice\n",
    )
    s.bash("uv run pytest -q", "Run the test suite",
           "....................................................                     [100%]\n52 passed in 3.62s",
           runtime=5.1)
    s.bash("uv run ruff check . && uv run ruff format --check .", "Lint and format check",
           "All checks passed!\n41 files already formatted")
    s.bash(
        "uv run --python 3.10 python scripts/bench_invoices.py --customer 1042", "Benchmark after the change",
        "customer 1042: 312 invoices, median 84.2 ms over 20 runs (p95 97.6 ms), 4 SQL statements per request",
        runtime=3.2,
    )
    s.say("**905 ms → 84 ms** median, and 1,189 → 4 SQL statements per request. Tests (52) and ruff are green; the "
          "response shape is unchanged.")
    s.user(f"Great. One more thing: the line-item categorizer needs an Anthropic key locally. Put mine in .env "
           f"(it's gitignored): ANTHROPIC_API_KEY={FAKE_ANTHROPIC_KEY}", wait=60)
    s.read(".env")
    s.edit(".env", "ANTHROPIC_API_KEY=\n", f"ANTHROPIC_API_KEY={FAKE_ANTHROPIC_KEY}\n")
    s.bash("git check-ignore -v .env", "Confirm .env is ignored by git", ".gitignore:4:.env\t.env",
           text="Set. Double-checking that git ignores the file:")
    s.todo([
        ("Find why the customer invoice list is slow", "completed", "Finding why the invoice list is slow"),
        ("Batch tax-rate lookups into one query per request", "completed", "Batching tax-rate lookups"),
        ("Keep the benchmark script Python 3.10 compatible", "completed", "Keeping the benchmark 3.10 compatible"),
        ("Add an index on tax_rate.region", "pending", "Adding an index on tax_rate.region"),
        ("Add a regression test asserting the query count of the invoice list", "pending", "Adding a query-count regression test"),
    ])
    s.say(
        "Summary:\n\n"
        "- **Cause**: an N+1 — `TaxService.rate_for` ran one query per line item (1,187 identical queries for "
        "customer 1042).\n"
        "- **Tried and reverted**: `functools.lru_cache` on `rate_for`. Because the method takes the DB session, "
        "the cache held ORM objects past their session (`DetachedInstanceError`), served stale rates after an "
        "update, and kept sessions alive. Decision: no caching of ORM objects across sessions; per request if ever.\n"
        "- **Fix**: `TaxService.rates_for` loads every needed rate in one query, and the route eager-loads invoices "
        "and lines with `selectinload`. 905 ms → 84 ms, 4 statements per request.\n"
        "- `scripts/bench_invoices.py` measures it and runs on Python 3.10 (no `tomllib`).\n"
        "- `.env` has your key; it is gitignored (`.gitignore:4`).\n\n"
        "Left for later: an index on `tax_rate.region`, and a test that pins the query count so the N+1 can't "
        "come back.",
    )
    s.summary("Speed up customer invoice list with one tax-rate query")
    s.turn_duration(655_420, 64)
    return s


# --- trailmap: GPX export --------------------------------------------------------------------------

PACKAGE_JSON = '''{
  "name": "trailmap",
  "version": "0.4.0",
  "description": "Summaries and conversions for GPS tracks from the command line",
  "type": "module",
  "bin": { "trailmap": "dist/cli.js" },
  "packageManager": "pnpm@9.15.4",
  "engines": { "node": ">=20" },
  "scripts": {
    "build": "tsup src/cli.ts --format esm --minify",
    "dev": "tsx src/cli.ts",
    "test": "vitest run",
    "typecheck": "tsc --noEmit",
    "lint": "eslint src test"
  },
  "dependencies": {
    "commander": "^12.1.0"
  },
  "devDependencies": {
    "@types/node": "^22.10.5",
    "eslint": "^9.17.0",
    "tsup": "^8.3.5",
    "tsx": "^4.19.2",
    "typescript": "^5.7.3",
    "vitest": "^3.0.4"
  }
}
'''

CLI_TS = '''#!/usr/bin/env node
import { Command } from "commander";

import { register as registerInfo } from "./commands/info.js";
import { register as registerStats } from "./commands/stats.js";

const program = new Command()
  .name("trailmap")
  .description("Summaries and conversions for GPS tracks")
  .version("0.4.0");

registerInfo(program);
registerStats(program);

await program.parseAsync();
'''

STATS_TS = '''import type { Command } from "commander";

import { loadTrack } from "../lib/load.js";
import { summarize } from "../lib/summary.js";

export function register(program: Command): void {
  program
    .command("stats")
    .description("distance, moving time and elevation gain of a track")
    .argument("<file>", "track JSON file")
    .option("--json", "print JSON instead of text")
    .action(async (file: string, opts: { json?: boolean }) => {
      const track = await loadTrack(file);
      const summary = summarize(track);
      process.stdout.write(opts.json ? JSON.stringify(summary) + "\\n" : summary.text + "\\n");
    });
}
'''

XML_TS_BUGGY = '''/** Escape text for XML element content and attribute values. */
export function escapeXml(value: string): string {
  return value
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&apos;")
    .replace(/&/g, "&amp;");
}
'''

EXPORT_TS = '''import type { Command } from "commander";

import { loadTrack } from "../lib/load";
import type { Track } from "../lib/track.js";
import { escapeXml } from "../lib/xml.js";

export function toGpx(track: Track): string {
  const points = track.points
    .map(
      (p) =>
        `      <trkpt lat="${p.lat.toFixed(6)}" lon="${p.lon.toFixed(6)}">` +
        (p.ele === undefined ? "" : `<ele>${p.ele.toFixed(1)}</ele>`) +
        `<time>${new Date(p.time).toISOString()}</time></trkpt>`,
    )
    .join("\\n");
  return [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<gpx version="1.1" creator="trailmap" xmlns="http://www.topografix.com/GPX/1/1">`,
    `  <trk>`,
    `    <name>${escapeXml(track.name)}</name>`,
    `    <trkseg>`,
    points,
    `    </trkseg>`,
    `  </trk>`,
    `</gpx>`,
    ``,
  ].join("\\n");
}

export function register(program: Command): void {
  program
    .command("export")
    .description("convert a track to another format")
    .argument("<file>", "track JSON file")
    .requiredOption("--format <format>", "output format (gpx)")
    .action(async (file: string, opts: { format: string }) => {
      if (opts.format !== "gpx") {
        program.error(`unsupported format: ${opts.format} (supported: gpx)`);
      }
      process.stdout.write(toGpx(await loadTrack(file)));
    });
}
'''

EXPORT_TEST_TS = '''import { describe, expect, it } from "vitest";

import { toGpx } from "../../src/commands/export.js";
import type { Track } from "../../src/lib/track.js";

const track: Track = {
  name: "Ridge loop",
  points: [
    { lat: 47.421, lon: 10.985, ele: 812.4, time: Date.UTC(2026, 1, 14, 8, 0, 0) },
    { lat: 47.4216, lon: 10.9861, ele: 815.0, time: Date.UTC(2026, 1, 14, 8, 0, 10) },
  ],
};

describe("toGpx", () => {
  it("writes a GPX 1.1 document", () => {
    const gpx = toGpx(track);
    expect(gpx).toContain(`<gpx version="1.1" creator="trailmap"`);
    expect(gpx).toContain(`<trkpt lat="47.421000" lon="10.985000"><ele>812.4</ele>`);
  });

  it("omits elevation when a point has none", () => {
    const gpx = toGpx({ ...track, points: [{ lat: 1, lon: 2, time: 0 }] });
    expect(gpx).not.toContain("<ele>");
  });

  it("escapes the track name", () => {
    expect(toGpx({ ...track, name: "Tom & Jerry <3" })).toContain("<name>Tom &amp; Jerry &lt;3</name>");
  });
});
'''

XML_TEST_TS = '''import { describe, expect, it } from "vitest";

import { escapeXml } from "../../src/lib/xml.js";

describe("escapeXml", () => {
  it("escapes markup characters", () => {
    expect(escapeXml("Fish <> Chips & co")).toBe("Fish &lt;&gt; Chips &amp; co");
  });

  it("escapes quotes for attributes", () => {
    expect(escapeXml(`say "hi" it's`)).toBe("say &quot;hi&quot; it&apos;s");
  });
});
'''


def trailmap_gpx() -> ClaudeSession:
    s = ClaudeSession(
        seed="demo-trailmap-gpx", cwd=TRAILMAP, branch="feat/gpx-export", version="2.1.42",
        model="claude-sonnet-4-5-20250929", start="2026-03-03T13:40:12.077Z",
        files={"package.json": PACKAGE_JSON, "src/cli.ts": CLI_TS, "src/commands/stats.ts": STATS_TS},
    )
    s.user("Add a `trailmap export <file> --format gpx` command that converts our track JSON to GPX 1.1. Follow "
           "the existing pattern in src/commands.", wait=0)
    s.read("src/cli.ts",
           thinking="New subcommand. Look at how existing commands are structured and registered, and at "
                    "package.json for scripts and dependencies.",
           text="Let me look at how the existing commands are wired up.")
    s.read("src/commands/stats.ts")
    s.read("package.json")
    s.bash(
        "npm install fast-xml-parser", "Add an XML builder dependency", "",
        thinking="Each command is src/commands/<name>.ts exporting register(program), registered in cli.ts. For "
                 "GPX output I could use an XML builder library.",
        text="Each command lives in `src/commands/<name>.ts` and exports `register(program)`, which `cli.ts` calls. "
             "For the XML I'll use fast-xml-parser's builder.",
        reject=True,
    )
    s.interrupted()
    s.user("Use pnpm, never npm — this repo has a pnpm-lock.yaml and npm would write a package-lock.json next to it.",
           wait=25)
    s.bash(
        "pnpm add fast-xml-parser", "Add fast-xml-parser with pnpm",
        "Packages: +2\n++\nProgress: resolved 214, reused 212, downloaded 2, added 2, done\n\n"
        "dependencies:\n+ fast-xml-parser 5.2.5\n\nDone in 1.8s",
        text="Sorry about that — pnpm it is.",
    )
    s.user("Hmm, actually let's not pull in a dependency for this. GPX is a tiny format, and we keep runtime "
           "dependencies minimal because the CLI ships as a single bundled file. Write the XML by hand with a "
           "small escape helper.", wait=55)
    s.bash(
        "pnpm remove fast-xml-parser", "Remove fast-xml-parser again",
        "Packages: -2\n--\nProgress: resolved 212, reused 212, downloaded 0, added 0, done\n\n"
        "dependencies:\n- fast-xml-parser 5.2.5\n\nDone in 0.9s",
        text="Makes sense for a bundled CLI. Removing it again.",
    )
    s.write("src/lib/xml.ts", XML_TS_BUGGY, text="A small escaping helper:")
    s.write("src/commands/export.ts", EXPORT_TS,
            text="The command itself, following the `register(program)` pattern:")
    s.edit(
        "src/cli.ts",
        "import { register as registerInfo } from \"./commands/info.js\";\n",
        "import { register as registerExport } from \"./commands/export.js\";\n"
        "import { register as registerInfo } from \"./commands/info.js\";\n",
    )
    s.edit("src/cli.ts", "registerInfo(program);\n", "registerExport(program);\nregisterInfo(program);\n")
    s.write("test/commands/export.test.ts", EXPORT_TEST_TS, text="Tests mirror the source layout:")
    s.write("test/lib/xml.test.ts", XML_TEST_TS)
    s.bash(
        "pnpm test", "Run the test suite",
        "\n> trailmap@0.4.0 test /home/dev/projects/trailmap\n> vitest run\n\n\n"
        " RUN  v3.0.4 /home/dev/projects/trailmap\n\n"
        " \u2713 test/commands/stats.test.ts (6 tests) 14ms\n"
        " \u276f test/commands/export.test.ts (3 tests | 1 failed) 11ms\n"
        "   \u00d7 toGpx > escapes the track name 5ms\n"
        "     \u2192 expected '<?xml version=\"1.0\" encoding=\"UTF-8\"?>\\n<gpx\u2026' to contain '<name>Tom &amp; Jerry &lt;3</name>'\n"
        " \u276f test/lib/xml.test.ts (2 tests | 1 failed) 6ms\n"
        "   \u00d7 escapeXml > escapes markup characters 4ms\n"
        "     \u2192 expected 'Fish &amp;lt;&amp;gt; Chips &amp; co' to be 'Fish &lt;&gt; Chips &amp; co' // Object.is equality\n\n"
        "\u23af\u23af\u23af\u23af\u23af\u23af\u23af Failed Tests 2 \u23af\u23af\u23af\u23af\u23af\u23af\u23af\n\n"
        " FAIL  test/lib/xml.test.ts > escapeXml > escapes markup characters\n"
        "AssertionError: expected 'Fish &amp;lt;&amp;gt; Chips &amp; co' to be 'Fish &lt;&gt; Chips &amp; co' // Object.is equality\n\n"
        "- Expected\n+ Received\n\n- Fish &lt;&gt; Chips &amp; co\n+ Fish &amp;lt;&amp;gt; Chips &amp; co\n\n"
        " \u276f test/lib/xml.test.ts:7:45\n"
        "      5|   it(\"escapes markup characters\", () => {\n"
        "      6|     expect(escapeXml(\"Fish <> Chips & co\")).toBe(\"Fish &lt;&gt; Chips &amp; co\");\n"
        "       |                                             ^\n"
        "      7|   });\n\n"
        " Test Files  2 failed | 1 passed (3)\n"
        "      Tests  2 failed | 9 passed (11)\n"
        "   Start at  14:02:37\n"
        "   Duration  418ms (transform 91ms, setup 0ms, collect 166ms, tests 31ms, environment 0ms, prepare 138ms)\n\n"
        "\u2009ELIFECYCLE\u2009 Test failed. See above for more details.",
        exit_code=1, runtime=2.4,
    )
    s.edit(
        "src/lib/xml.ts",
        "  return value\n    .replace(/</g, \"&lt;\")\n    .replace(/>/g, \"&gt;\")\n"
        "    .replace(/\"/g, \"&quot;\")\n    .replace(/'/g, \"&apos;\")\n    .replace(/&/g, \"&amp;\");\n",
        "  // & first: replacing it last would re-escape the entities produced by the other replacements.\n"
        "  return value\n    .replace(/&/g, \"&amp;\")\n    .replace(/</g, \"&lt;\")\n    .replace(/>/g, \"&gt;\")\n"
        "    .replace(/\"/g, \"&quot;\")\n    .replace(/'/g, \"&apos;\");\n",
        thinking="escapeXml replaces & last, so the & inside &lt; and &gt; gets escaped again: '&amp;lt;'. & has to "
                 "be replaced first. Both failures are the same bug.",
        text="Both failures are the same bug in `escapeXml`: `&` is replaced last, so the `&` inside the `&lt;` and "
             "`&gt;` it just produced gets escaped again (`&amp;lt;`). `&` has to go first.",
    )
    s.bash(
        "pnpm test", "Re-run the test suite",
        "\n> trailmap@0.4.0 test /home/dev/projects/trailmap\n> vitest run\n\n\n"
        " RUN  v3.0.4 /home/dev/projects/trailmap\n\n"
        " \u2713 test/commands/stats.test.ts (6 tests) 13ms\n"
        " \u2713 test/commands/export.test.ts (3 tests) 9ms\n"
        " \u2713 test/lib/xml.test.ts (2 tests) 3ms\n\n"
        " Test Files  3 passed (3)\n"
        "      Tests  11 passed (11)\n"
        "   Start at  14:03:55\n"
        "   Duration  402ms (transform 88ms, setup 0ms, collect 160ms, tests 25ms, environment 0ms, prepare 129ms)",
        runtime=2.2,
    )
    s.say("All 11 tests pass. The export command is in place and registered.")
    s.user("Did you run the typecheck?", wait=30)
    s.bash(
        "pnpm typecheck", "Type-check the project",
        "\n> trailmap@0.4.0 typecheck /home/dev/projects/trailmap\n> tsc --noEmit\n\n"
        "src/commands/export.ts:3:28 - error TS2835: Relative import paths need explicit file extensions in "
        "ECMAScript imports when '--moduleResolution' is 'node16' or 'nodenext'. Did you mean '../lib/load.js'?\n\n"
        "3 import { loadTrack } from \"../lib/load\";\n"
        "                             ~~~~~~~~~~~~~\n\n\n"
        "Found 1 error in src/commands/export.ts:3\n\n"
        "\u2009ELIFECYCLE\u2009 Command failed with exit code 2.",
        exit_code=2, runtime=3.9,
        text="No — running it now.",
    )
    s.edit(
        "src/commands/export.ts",
        "import { loadTrack } from \"../lib/load\";\n",
        "import { loadTrack } from \"../lib/load.js\";\n",
        text="One error: this project is ESM with `NodeNext` resolution, so relative imports need the `.js` "
             "extension like everywhere else in `src/`.",
    )
    s.bash("pnpm typecheck", "Type-check again",
           "\n> trailmap@0.4.0 typecheck /home/dev/projects/trailmap\n> tsc --noEmit\n", runtime=3.6)
    s.bash(
        "pnpm build && node dist/cli.js export fixtures/tracks/ridge-loop.json --format gpx | head -6",
        "Build and smoke-test the export",
        "\n> trailmap@0.4.0 build /home/dev/projects/trailmap\n> tsup src/cli.ts --format esm --minify\n\n"
        "CLI Building entry: src/cli.ts\nCLI Using tsconfig: tsconfig.json\nCLI tsup v8.3.5\nCLI Target: node20\n"
        "ESM Build start\nESM dist/cli.js 48.31 KB\nESM \u26a1\ufe0f Build success in 214ms\n"
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<gpx version=\"1.1\" creator=\"trailmap\" xmlns=\"http://www.topografix.com/GPX/1/1\">\n"
        "  <trk>\n    <name>Ridge loop</name>\n    <trkseg>\n"
        "      <trkpt lat=\"47.421003\" lon=\"10.985112\"><ele>812.4</ele><time>2026-02-14T08:00:00.000Z</time></trkpt>",
        runtime=4.4,
    )
    s.user("Good. Always run `pnpm typecheck` before you tell me something is done — vitest doesn't type-check.",
           wait=40)
    s.todo([
        ("Add `trailmap export --format gpx` (src/commands/export.ts)", "completed", "Adding the export command"),
        ("Hand-written XML escaping without new dependencies", "completed", "Writing the XML escaping"),
        ("Tests for export and escaping", "completed", "Writing tests"),
        ("Add --output <path> to write to a file instead of stdout", "pending", "Adding --output"),
        ("Document `trailmap export` in the README", "pending", "Documenting the export command"),
        ("Support --format kml", "pending", "Adding KML support"),
    ], text="Will do — typecheck before I call anything done. Updating the list:")
    s.say(
        "Summary:\n\n"
        "- New `trailmap export <file> --format gpx` in `src/commands/export.ts`, registered in `src/cli.ts`, "
        "following the `register(program)` pattern; tests in `test/commands/export.test.ts` and "
        "`test/lib/xml.test.ts`.\n"
        "- No new dependency: fast-xml-parser was added and removed again; GPX is written by hand with "
        "`escapeXml` in `src/lib/xml.ts`, since runtime dependencies stay minimal for the bundled CLI.\n"
        "- Bug fixed on the way: `escapeXml` escaped `&` last and double-escaped entities; `&` now goes first.\n"
        "- `pnpm test` (11 passed), `pnpm typecheck` and `pnpm build` all succeed.\n\n"
        "Open: `--output <path>`, a README section for `export`, and KML.",
    )
    s.summary("Add GPX export command with hand-written XML escaping")
    s.turn_duration(318_004, 61)
    return s


# --- trailmap (Codex): elevation gain -------------------------------------------------------------

ELEVATION_TS = '''import type { TrackPoint } from "./track.js";

/** Total climb in metres: the sum of every positive elevation change between points. */
export function elevationGain(points: TrackPoint[]): number {
  let gain = 0;
  for (let i = 1; i < points.length; i++) {
    const prev = points[i - 1].ele;
    const cur = points[i].ele;
    if (prev !== undefined && cur !== undefined && cur > prev) {
      gain += cur - prev;
    }
  }
  return gain;
}
'''

AGENTS_TRAILMAP = """# AGENTS.md

- Package manager: pnpm. Never npm or yarn.
- Before finishing: `pnpm test` and `pnpm typecheck`.
- Commands live in src/commands/<name>.ts and export register(program); tests mirror src/ under test/.
- Relative imports end in .js (ESM, NodeNext)."""


def trailmap_elevation() -> CodexRollout:
    c = CodexRollout(
        seed="demo-trailmap-elevation", cwd=TRAILMAP, cli_version="0.58.0", model="gpt-5.1-codex",
        start="2026-03-06T15:05:31.440Z", style="2025", shell="zsh", instructions=AGENTS_TRAILMAP,
        git={"commit_hash": "a3f9c0e27d41b8e65c2f1d09e7b3a4c58f6d2e10", "branch": "main",
             "repository_url": "git@github.com:dev-example/trailmap.git"},
    )
    c.meta()
    c.user("`trailmap stats` reports about twice the elevation gain Strava shows for the same ride (ridge-loop: we "
           "say 1,240 m, Strava 612 m). I think GPS noise is adding up. Fix it and add a test with a noisy track.",
           wait=2.2)
    c.reason("**Locating elevation gain computation**")
    c.shell("rg -n \"elevationGain\" src test",
            "src/lib/summary.ts:4:import { elevationGain } from \"./elevation.js\";\n"
            "src/lib/summary.ts:19:  const gain = elevationGain(track.points);\n"
            "src/lib/elevation.ts:4:export function elevationGain(points: TrackPoint[]): number {\n"
            "test/lib/summary.test.ts:22:    expect(summary.elevationGainM).toBe(15);")
    c.shell("sed -n '1,80p' src/lib/elevation.ts", ELEVATION_TS.rstrip("\n"))
    c.say("The gain is the sum of every positive change between consecutive points, so the ±2–3 m jitter of GPS "
          "elevation on flat ground counts as climbing. I'll smooth the elevation profile with a centred 5-point "
          "moving average and ignore climbs below 3 m before summing — the usual approach, and it should land "
          "near Strava's number.")
    c.plan([("Smooth elevations and add a minimum-climb threshold in elevationGain", "in_progress"),
            ("Add a noisy flat fixture and tests", "pending"),
            ("Check ridge-loop against the Strava figure", "pending"),
            ("Apply the same smoothing to elevation loss", "pending")])
    c.patch(
        "*** Begin Patch\n*** Update File: src/lib/elevation.ts\n"
        "@@\n import type { TrackPoint } from \"./track.js\";\n \n"
        "-/** Total climb in metres: the sum of every positive elevation change between points. */\n"
        "+function smooth(values: number[], window: number): number[] {\n"
        "+  const half = Math.floor(window / 2);\n"
        "+  return values.map((_, i) => {\n"
        "+    let sum = 0;\n"
        "+    for (let j = i - half; j <= i + half; j++) {\n"
        "+      if (j >= 0 && j < values.length) sum += values[j];\n"
        "+    }\n"
        "+    return sum / window;\n"
        "+  });\n"
        "+}\n"
        "+\n"
        "+/** Total climb in metres, after smoothing GPS noise and ignoring climbs under 3 m. */\n"
        " export function elevationGain(points: TrackPoint[]): number {\n"
        "+  const ele = smooth(points.flatMap((p) => (p.ele === undefined ? [] : [p.ele])), 5);\n"
        "   let gain = 0;\n"
        "-  for (let i = 1; i < points.length; i++) {\n"
        "-    const prev = points[i - 1].ele;\n"
        "-    const cur = points[i].ele;\n"
        "-    if (prev !== undefined && cur !== undefined && cur > prev) {\n"
        "-      gain += cur - prev;\n"
        "+  let base = ele[0] ?? 0;\n"
        "+  for (const e of ele) {\n"
        "+    if (e < base) {\n"
        "+      base = e;\n"
        "+    } else if (e - base >= 3) {\n"
        "+      gain += e - base;\n"
        "+      base = e;\n"
        "     }\n"
        "   }\n"
        "   return gain;\n"
        "*** End Patch",
        reason="**Implementing smoothing and threshold**",
    )
    c.patch(
        "*** Begin Patch\n*** Add File: test/lib/elevation.test.ts\n"
        "+import { describe, expect, it } from \"vitest\";\n"
        "+\n"
        "+import { elevationGain } from \"../../src/lib/elevation.js\";\n"
        "+import noisyFlat from \"../fixtures/noisy-flat.json\" with { type: \"json\" };\n"
        "+\n"
        "+const at = (ele: number[]) => ele.map((e, i) => ({ lat: 47, lon: 11, ele: e, time: i * 1000 }));\n"
        "+\n"
        "+describe(\"elevationGain\", () => {\n"
        "+  it(\"ignores GPS noise on a flat track\", () => {\n"
        "+    expect(elevationGain(noisyFlat.points)).toBeLessThan(5);\n"
        "+  });\n"
        "+\n"
        "+  it(\"counts a steady climb\", () => {\n"
        "+    expect(elevationGain(at([500, 510, 520, 530, 540, 550, 560]))).toBeCloseTo(60, 0);\n"
        "+  });\n"
        "+\n"
        "+  it(\"is zero without elevation data\", () => {\n"
        "+    expect(elevationGain([{ lat: 1, lon: 2, time: 0 }])).toBe(0);\n"
        "+  });\n"
        "+});\n"
        "*** Add File: test/fixtures/noisy-flat.json\n"
        "+{\"name\":\"noisy flat\",\"points\":[{\"lat\":47.1,\"lon\":11.2,\"ele\":501.8,\"time\":0},"
        "{\"lat\":47.1001,\"lon\":11.2,\"ele\":499.1,\"time\":1000},{\"lat\":47.1002,\"lon\":11.2,\"ele\":502.6,\"time\":2000},"
        "{\"lat\":47.1003,\"lon\":11.2,\"ele\":498.7,\"time\":3000},{\"lat\":47.1004,\"lon\":11.2,\"ele\":501.2,\"time\":4000},"
        "{\"lat\":47.1005,\"lon\":11.2,\"ele\":500.4,\"time\":5000},{\"lat\":47.1006,\"lon\":11.2,\"ele\":502.9,\"time\":6000},"
        "{\"lat\":47.1007,\"lon\":11.2,\"ele\":499.5,\"time\":7000}]}\n"
        "*** End Patch",
    )
    c.shell(
        "pnpm test -- test/lib/elevation.test.ts",
        "\n> trailmap@0.4.0 test /home/dev/projects/trailmap\n> vitest run test/lib/elevation.test.ts\n\n\n"
        " RUN  v3.0.4 /home/dev/projects/trailmap\n\n"
        " \u276f test/lib/elevation.test.ts (3 tests | 2 failed) 8ms\n"
        "   \u00d7 elevationGain > ignores GPS noise on a flat track 5ms\n"
        "     \u2192 expected 37.2 to be less than 5\n"
        "   \u00d7 elevationGain > counts a steady climb 1ms\n"
        "     \u2192 expected 328 to be close to 60, received difference is 268, but expected 0.5\n"
        "   \u2713 elevationGain > is zero without elevation data 0ms\n\n"
        "\u23af\u23af\u23af\u23af\u23af\u23af\u23af Failed Tests 2 \u23af\u23af\u23af\u23af\u23af\u23af\u23af\n\n"
        " FAIL  test/lib/elevation.test.ts > elevationGain > ignores GPS noise on a flat track\n"
        "AssertionError: expected 37.2 to be less than 5\n"
        " \u276f test/lib/elevation.test.ts:11:47\n\n"
        " Test Files  1 failed (1)\n"
        "      Tests  2 failed | 1 passed (3)\n"
        "   Duration  351ms\n\n"
        "\u2009ELIFECYCLE\u2009 Test failed. See above for more details.",
        exit_code=1, seconds=2.3,
        reason="**Running the new tests**",
    )
    c.reason("**Diagnosing edge effect in smoothing**\n\nThe flat track still gains 37 m and the steady climb "
             "328 m. The moving average divides by the full window even at the ends, where fewer samples exist, "
             "so the first and last values are pulled towards zero and the rise back to real altitude counts "
             "as climb. Divide by the number of samples actually in the window.")
    c.patch(
        "*** Begin Patch\n*** Update File: src/lib/elevation.ts\n"
        "@@ function smooth(values: number[], window: number): number[] {\n"
        "   return values.map((_, i) => {\n"
        "     let sum = 0;\n"
        "+    let count = 0;\n"
        "     for (let j = i - half; j <= i + half; j++) {\n"
        "-      if (j >= 0 && j < values.length) sum += values[j];\n"
        "+      if (j >= 0 && j < values.length) {\n"
        "+        sum += values[j];\n"
        "+        count++;\n"
        "+      }\n"
        "     }\n"
        "-    return sum / window;\n"
        "+    return sum / count;\n"
        "   });\n"
        "*** End Patch",
    )
    c.shell(
        "pnpm test",
        "\n> trailmap@0.4.0 test /home/dev/projects/trailmap\n> vitest run\n\n\n"
        " RUN  v3.0.4 /home/dev/projects/trailmap\n\n"
        " \u2713 test/commands/stats.test.ts (6 tests) 12ms\n"
        " \u2713 test/commands/export.test.ts (3 tests) 9ms\n"
        " \u2713 test/lib/xml.test.ts (2 tests) 3ms\n"
        " \u2713 test/lib/elevation.test.ts (3 tests) 4ms\n"
        " \u2713 test/lib/summary.test.ts (4 tests) 5ms\n\n"
        " Test Files  5 passed (5)\n"
        "      Tests  18 passed (18)\n"
        "   Duration  436ms",
        seconds=2.4,
    )
    c.shell("pnpm typecheck", "\n> trailmap@0.4.0 typecheck /home/dev/projects/trailmap\n> tsc --noEmit\n", seconds=3.7)
    c.shell("pnpm dev stats fixtures/tracks/ridge-loop.json",
            "\n> trailmap@0.4.0 dev /home/dev/projects/trailmap\n> tsx src/cli.ts stats fixtures/tracks/ridge-loop.json\n\n"
            "Ridge loop: 38.4 km, moving time 1:52:10, elevation gain 618 m", seconds=1.1)
    c.say("Fixed. The edge windows were divided by 5 even when they held fewer samples, which pulled the ends "
          "towards zero; now each window divides by its own sample count. ridge-loop reports **618 m** (Strava "
          "612 m, before 1,240 m). `pnpm test` (18 passed) and `pnpm typecheck` are green.\n\n"
          "Should the window size and the 3 m threshold be configurable with flags on `stats`?", final=True)
    c.user("No flags — keep it internal, I prefer a small CLI surface. Just make them named constants with a comment "
           "saying why, and commit.", wait=48)
    c.patch(
        "*** Begin Patch\n*** Update File: src/lib/elevation.ts\n"
        "@@\n import type { TrackPoint } from \"./track.js\";\n \n"
        "+// GPS elevation jitters by a few metres; summing raw deltas doubled the gain on real rides\n"
        "+// (ridge-loop: 1,240 m vs 612 m on Strava). Smooth first, then ignore climbs under 3 m.\n"
        "+const SMOOTHING_WINDOW = 5;\n"
        "+const MIN_CLIMB_M = 3;\n"
        "+\n"
        " function smooth(values: number[], window: number): number[] {\n"
        "@@ export function elevationGain(points: TrackPoint[]): number {\n"
        "-  const ele = smooth(points.flatMap((p) => (p.ele === undefined ? [] : [p.ele])), 5);\n"
        "+  const ele = smooth(points.flatMap((p) => (p.ele === undefined ? [] : [p.ele])), SMOOTHING_WINDOW);\n"
        "@@\n"
        "-    } else if (e - base >= 3) {\n"
        "+    } else if (e - base >= MIN_CLIMB_M) {\n"
        "*** End Patch",
    )
    c.shell("pnpm test && pnpm typecheck",
            "\n> trailmap@0.4.0 test /home/dev/projects/trailmap\n> vitest run\n\n"
            " Test Files  5 passed (5)\n      Tests  18 passed (18)\n   Duration  429ms\n\n"
            "> trailmap@0.4.0 typecheck /home/dev/projects/trailmap\n> tsc --noEmit\n", seconds=6.2)
    c.shell("git add src/lib/elevation.ts test/lib/elevation.test.ts test/fixtures/noisy-flat.json && "
            "git commit -m \"Smooth elevation before summing gain\"",
            "[main 5d81e3a] Smooth elevation before summing gain\n 3 files changed, 58 insertions(+), 8 deletions(-)\n"
            " create mode 100644 test/fixtures/noisy-flat.json\n create mode 100644 test/lib/elevation.test.ts")
    c.plan([("Smooth elevations and add a minimum-climb threshold in elevationGain", "completed"),
            ("Add a noisy flat fixture and tests", "completed"),
            ("Check ridge-loop against the Strava figure", "completed"),
            ("Apply the same smoothing to elevation loss", "pending")],
           explanation="Gain is fixed and committed; elevation loss still sums raw deltas.")
    c.say("Committed as `5d81e3a` (\"Smooth elevation before summing gain\"):\n\n"
          "- `SMOOTHING_WINDOW = 5` and `MIN_CLIMB_M = 3` are named constants in `src/lib/elevation.ts`, with a "
          "comment on why (raw GPS deltas doubled the gain). No new CLI flags.\n"
          "- Tests: a noisy flat fixture stays under 5 m, a steady climb counts 60 m.\n\n"
          "Still open: `stats --detailed` computes elevation *loss* from raw deltas; it needs the same smoothing.",
          final=True)
    return c


# --- invoice-api (Codex): CSV export ---------------------------------------------------------------

EXPORT_PY = '''"""CSV export of a customer's invoices for the accounting team."""

from __future__ import annotations

import csv
import io

from invoice_api.models import Customer


def invoices_csv(customer: Customer) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["invoice", "issued_on", "sku", "quantity", "unit_price", "line_total"])
    for invoice in customer.invoices:
        for line in invoice.lines:
            row = line.__dict__
            writer.writerow([
                invoice.id,
                invoice.issued_on.isoformat(),
                line.sku,
                line.quantity,
                f"{row['unit_price']:.2f}",
                f"{line.quantity * row['unit_price']:.2f}",
            ])
    return buf.getvalue()
'''

AGENTS_INVOICE = """## Invoice API

- Python 3.10+ (production runs 3.10). Dependencies and commands go through uv: `uv run pytest`, `uv run ruff check .`.
- Money is integer cents; format with `format_cents` at the edges only.
- Logging: structlog (`log = structlog.get_logger(__name__)`), never print."""


def invoice_csv() -> CodexRollout:
    c = CodexRollout(
        seed="demo-invoice-csv", cwd=INVOICE, cli_version="0.98.0", model="gpt-5.2-codex",
        start="2026-02-17T09:20:44.105Z", style="2026", instructions=AGENTS_INVOICE,
        git={"commit_hash": "c41e07b9a2d35f8e61b0c9d7e2f4a3b1d5c6e8f0", "branch": "main",
             "repository_url": "git@github.com:dev-example/invoice-api.git"},
    )
    c.meta()
    c.user("The accounting CSV export broke after we moved prices to integer cents (reports/export.py). Fix it so "
           "the CSV shows amounts like 19.99 again. Don't add pandas for this, the csv module is fine.", wait=1.5)
    c.reason("**Inspecting export module and tests**")
    c.say("I'll look at the export module and its test first.")
    c.shell("sed -n '1,60p' src/invoice_api/reports/export.py", EXPORT_PY.rstrip("\n"))
    c.shell(
        "uv run pytest tests/test_export.py -q",
        "F.                                                                       [100%]\n"
        "=================================== FAILURES ===================================\n"
        "____________________________ test_invoices_csv_rows ____________________________\n"
        "\n"
        "customer_with_invoices = <invoice_api.models.Customer object at 0x7f91d0a4be30>\n"
        "\n"
        "    def test_invoices_csv_rows(customer_with_invoices):\n"
        ">       text = invoices_csv(customer_with_invoices)\n"
        "\n"
        "tests/test_export.py:12: \n"
        "_ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ \n"
        "src/invoice_api/reports/export.py:24: in invoices_csv\n"
        "    f\"{row['unit_price']:.2f}\",\n"
        "E   KeyError: 'unit_price'\n"
        "=========================== short test summary info ============================\n"
        "FAILED tests/test_export.py::test_invoices_csv_rows - KeyError: 'unit_price'\n"
        "1 failed, 1 passed in 0.31s",
        exit_code=1, seconds=1.9,
    )
    c.say("The export reads `unit_price` out of the row's `__dict__`, and the column is `unit_price_cents` now. "
          "I'll compute in cents and format with `format_cents`, the same helper the API uses, so the CSV and the "
          "API agree to the cent — no floats anywhere.")
    c.patch(
        "*** Begin Patch\n*** Update File: src/invoice_api/reports/export.py\n"
        "@@\n import csv\n import io\n \n+import structlog\n+\n from invoice_api.models import Customer\n"
        "+from invoice_api.schemas import format_cents\n+\n+log = structlog.get_logger(__name__)\n"
        "@@ def invoices_csv(customer: Customer) -> str:\n"
        "     for invoice in customer.invoices:\n"
        "         for line in invoice.lines:\n"
        "-            row = line.__dict__\n"
        "             writer.writerow([\n"
        "                 invoice.id,\n"
        "                 invoice.issued_on.isoformat(),\n"
        "                 line.sku,\n"
        "                 line.quantity,\n"
        "-                f\"{row['unit_price']:.2f}\",\n"
        "-                f\"{line.quantity * row['unit_price']:.2f}\",\n"
        "+                format_cents(line.unit_price_cents),\n"
        "+                format_cents(line.quantity * line.unit_price_cents),\n"
        "             ])\n"
        "+    log.info(\"invoices_csv\", customer_id=customer.id, invoices=len(customer.invoices))\n"
        "     return buf.getvalue()\n"
        "*** End Patch",
    )
    c.shell("uv run pytest tests/test_export.py -q",
            "..                                                                       [100%]\n2 passed in 0.27s",
            seconds=1.7)
    c.shell("uv run ruff check . && uv run ruff format --check .",
            "All checks passed!\nWould reformat: src/invoice_api/reports/export.py\n"
            "1 file would be reformatted, 41 files already formatted",
            exit_code=1, seconds=0.5)
    c.shell("uv run ruff format src/invoice_api/reports/export.py", "1 file reformatted", seconds=0.2,
            reason="**Applying ruff formatting**")
    c.shell("uv run ruff format --check .", "42 files already formatted", seconds=0.3)
    c.shell("uv run pytest -q",
            "......................................................                   [100%]\n54 passed in 3.71s",
            seconds=5.3)
    c.say("The export is fixed: amounts come from `unit_price_cents` and are written with `format_cents` (`19.99`, "
          "never a float), and the export now logs through structlog. Full suite: 54 passed; ruff is clean.",
          final=True)
    c.user("Thanks. Commit it on its own — small focused commits, like the cents change.", wait=35)
    c.shell("git add src/invoice_api/reports/export.py && git commit -m \"Read integer cents in the CSV export\"",
            "[main e07a4c1] Read integer cents in the CSV export\n 1 file changed, 8 insertions(+), 4 deletions(-)")
    c.say("Committed as `e07a4c1` — only `reports/export.py` is in it. The reporting-database backfill for archived "
          "invoices is still open from the cents migration.", final=True)
    return c


# --- output ------------------------------------------------------------------------------------------


def render_all() -> dict[str, str]:
    """Relative path under sessions/ -> file content, for every demo session."""
    out: dict[str, str] = {}
    for build in (invoice_rounding, invoice_perf, trailmap_gpx):
        s = build()
        slug = "".join(ch if ch.isalnum() else "-" for ch in s.cwd)
        out[f"claude-code/{slug}/{s.session_id}.jsonl"] = s.render()
    for build in (invoice_csv, trailmap_elevation):
        c = build()
        out[f"codex/{c.filename}"] = c.render()
    return out


def write_all(dest: Path) -> list[Path]:
    written = []
    for rel, text in render_all().items():
        path = dest / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).with_name("sessions")
    for p in write_all(target):
        print(p)
