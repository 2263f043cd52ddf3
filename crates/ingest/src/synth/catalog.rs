//! The bank itself: its product shelf, its branch list and its staff.
//! These rows do not depend on the number of customers; staff names are
//! drawn from a stream of the seed reserved for them.

use super::geo::{BranchNetwork, CITIES};
use super::people::draw_name;
use super::rows::Rows;
use rand::Rng;
use rapport_domain::{Gender, StaffRole};

/// Every product: code, name, category, risk level (R1–R5).
pub const PRODUCTS: &[(&str, &str, &str, u8)] = &[
    ("CUR-01", "个人活期储蓄账户", "deposit", 1),
    ("SAV-01", "个人储蓄存款账户", "deposit", 1),
    ("TD-3M", "三个月整存整取定期存款", "deposit", 1),
    ("TD-1Y", "一年期整存整取定期存款", "deposit", 1),
    ("TD-3Y", "三年期整存整取定期存款", "deposit", 1),
    ("WM-R1-01", "天天利现金管理理财", "wealth", 1),
    ("WM-R2-01", "稳享90天持有期理财", "wealth", 2),
    ("WM-R2-02", "稳健一年定开理财", "wealth", 2),
    ("WM-R3-01", "固收增强一年持有期理财", "wealth", 3),
    ("INS-01", "增额终身寿险", "insurance", 2),
    ("FD-R3-01", "平衡配置混合型基金", "fund", 3),
    ("FD-R4-01", "沪深300指数增强基金", "fund", 4),
    ("GOLD-01", "积存金", "precious_metal", 4),
    ("FD-R5-01", "科技创新主题股票基金", "fund", 5),
    ("CC-CLASSIC", "普卡信用卡", "card", 1),
    ("CC-GOLD", "金卡信用卡", "card", 1),
    ("CC-PLAT", "白金卡信用卡", "card", 1),
    ("LN-MORT", "个人住房按揭贷款", "loan", 1),
    ("LN-CONS", "个人消费贷款", "loan", 1),
];

/// Products bought through an investment account, with their risk level.
pub const INVESTMENTS: &[(&str, u8)] = &[
    ("WM-R1-01", 1),
    ("WM-R2-01", 2),
    ("WM-R2-02", 2),
    ("INS-01", 2),
    ("WM-R3-01", 3),
    ("FD-R3-01", 3),
    ("FD-R4-01", 4),
    ("GOLD-01", 4),
    ("FD-R5-01", 5),
];

pub fn write_products(out: &mut Rows) {
    for (code, name, category, risk) in PRODUCTS {
        out.row()
            .text(code)
            .text(name)
            .text(category)
            .int(i64::from(*risk))
            .end();
    }
}

pub fn write_branches(net: &BranchNetwork, out: &mut Rows) {
    for b in &net.branches {
        let c = &CITIES[b.city];
        out.row()
            .text(&b.code)
            .text(&b.name)
            .text(c.name)
            .text(c.province)
            .end();
    }
}

fn staff<R: Rng>(rng: &mut R, out: &mut Rows, username: &str, role: StaffRole, branch: &str) {
    let gender = if rng.random_bool(0.5) {
        Gender::Male
    } else {
        Gender::Female
    };
    let year = rng.random_range(1970..2000);
    let (_, name, _) = draw_name(rng, gender, year);
    out.row()
        .text(username)
        .text(&name)
        .text(role.as_str())
        .text(branch)
        .end();
}

/// Head-office roles plus a manager and relationship managers in every branch.
pub fn write_staff<R: Rng>(rng: &mut R, net: &BranchNetwork, out: &mut Rows) {
    for i in 1..=2 {
        staff(rng, out, &format!("admin{i:02}"), StaffRole::Admin, "");
    }
    for b in &net.branches {
        let code = b.code.to_lowercase();
        staff(
            rng,
            out,
            &format!("mgr_{code}"),
            StaffRole::Manager,
            &b.code,
        );
        let rms = match CITIES[b.city].tier {
            1 => 5,
            2 => 3,
            _ => 2,
        };
        for k in 1..=rms {
            staff(
                rng,
                out,
                &format!("rm_{code}_{k:02}"),
                StaffRole::Rm,
                &b.code,
            );
        }
    }
    for (prefix, role, count) in [
        ("agent", StaffRole::Agent, 12),
        ("risk", StaffRole::Risk, 4),
        ("analyst", StaffRole::Analyst, 4),
        ("audit", StaffRole::Auditor, 2),
    ] {
        for i in 1..=count {
            staff(rng, out, &format!("{prefix}{i:02}"), role, "");
        }
    }
}
