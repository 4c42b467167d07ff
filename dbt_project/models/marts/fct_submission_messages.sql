-- The messages ingest gave on every submission attempt of the active campaign (errors that rejected it,
-- warnings it was accepted with): grain (submission_id, seq), seq being the order of the receipt.
-- Read by the upload portal's history page (sheet, row and column of each message, as the receipt
-- told them). The attempt itself (unit, form, period, status) is in fct_submissions.

with

messages as (
    select * from {{ ref('stg_raw__submission_messages') }}
),

submissions as (
    select submission_id, unit_id from {{ ref('fct_submissions') }}
),

final as (
    select
        messages.submission_id,
        messages.seq,
        submissions.unit_id,
        messages.severity,
        messages.sheet,
        messages.row_no,
        messages.column_header,
        messages.value,
        messages.message,
    from messages
    inner join submissions on messages.submission_id = submissions.submission_id
)

select * from final
