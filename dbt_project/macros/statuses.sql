{#- Status vocabulary of indicators and tasks, and the order used when several statuses combine
    ("worst wins"): 逾期未完成 < 数据缺报 < 未启动 < 滞后 < 正常推进 < 已完成. -#}

{% macro status_severity(status) -%}
    case {{ status }}
        when '逾期未完成' then 1
        when '数据缺报' then 2
        when '未启动' then 3
        when '滞后' then 4
        when '正常推进' then 5
        when '已完成' then 6
    end
{%- endmacro %}

{% macro status_of_severity(severity) -%}
    case {{ severity }}
        when 1 then '逾期未完成'
        when 2 then '数据缺报'
        when 3 then '未启动'
        when 4 then '滞后'
        when 5 then '正常推进'
        when 6 then '已完成'
    end
{%- endmacro %}

{#- A figure as people read it: rates as percentages, counts as plain numbers. -#}
{% macro format_figure(value, kind) -%}
    case
        when {{ value }} is null then '—'
        when {{ kind }} = 'rate' then printf('%.1f%%', {{ value }} * 100)
        when {{ value }} = trunc({{ value }}) then cast(cast({{ value }} as bigint) as varchar)
        else printf('%.1f', {{ value }})
    end
{%- endmacro %}
