//! Logistic regression by iteratively reweighted least squares (Newton's
//! method) with a small ridge penalty on the coefficients (not on the
//! intercept), solved by Cholesky. Sized for scorecards: tens of columns,
//! up to millions of rows.

/// A fitted model: `logit(p) = intercept + Σ coefficients[j] · x[j]`.
#[derive(Debug, Clone)]
pub struct LogisticFit {
    pub intercept: f64,
    pub coefficients: Vec<f64>,
    pub iterations: usize,
    pub converged: bool,
}

impl LogisticFit {
    pub fn logit(&self, x: impl Iterator<Item = f64>) -> f64 {
        self.intercept
            + self
                .coefficients
                .iter()
                .zip(x)
                .map(|(b, v)| b * v)
                .sum::<f64>()
    }
}

pub fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

/// Fit on `columns` (each one value per row) and 0/1 `labels`.
pub fn fit(columns: &[Vec<f64>], labels: &[u8], ridge: f64) -> LogisticFit {
    let n = labels.len();
    let k = columns.len() + 1; // the intercept is parameter 0
    let mut beta = vec![0.0; k];
    let rate = labels.iter().filter(|&&y| y == 1).count() as f64 / n.max(1) as f64;
    beta[0] = (rate.clamp(1e-6, 1.0 - 1e-6) / (1.0 - rate.clamp(1e-6, 1.0 - 1e-6))).ln();
    let x = |row: usize, j: usize| if j == 0 { 1.0 } else { columns[j - 1][row] };
    let objective = |beta: &[f64]| {
        let mut ll = 0.0;
        for (row, &label) in labels.iter().enumerate() {
            let z: f64 = (0..k).map(|j| beta[j] * x(row, j)).sum();
            // log(1 + e^z) computed stably.
            let log1p_exp = if z > 0.0 {
                z + (-z).exp().ln_1p()
            } else {
                z.exp().ln_1p()
            };
            ll += f64::from(label) * z - log1p_exp;
        }
        ll - 0.5 * ridge * beta[1..].iter().map(|b| b * b).sum::<f64>()
    };
    let mut current = objective(&beta);
    let mut iterations = 0;
    let mut converged = false;
    while iterations < 100 {
        iterations += 1;
        let mut hessian = vec![0.0; k * k];
        let mut gradient = vec![0.0; k];
        for (row, &label) in labels.iter().enumerate() {
            let z: f64 = (0..k).map(|j| beta[j] * x(row, j)).sum();
            let p = sigmoid(z);
            let w = (p * (1.0 - p)).max(1e-12);
            let residual = f64::from(label) - p;
            for a in 0..k {
                let xa = x(row, a);
                gradient[a] += xa * residual;
                for b in 0..=a {
                    hessian[a * k + b] += w * xa * x(row, b);
                }
            }
        }
        for a in 1..k {
            gradient[a] -= ridge * beta[a];
            hessian[a * k + a] += ridge;
        }
        for a in 0..k {
            for b in a + 1..k {
                hessian[a * k + b] = hessian[b * k + a];
            }
        }
        let Some(step) = cholesky_solve(&mut hessian, &gradient, k) else {
            break;
        };
        // Step halving keeps every iteration an improvement.
        let mut scale = 1.0;
        let mut accepted = false;
        for _ in 0..30 {
            let trial: Vec<f64> = beta.iter().zip(&step).map(|(b, s)| b + scale * s).collect();
            let value = objective(&trial);
            if value >= current - 1e-12 {
                beta = trial;
                current = value;
                accepted = true;
                break;
            }
            scale *= 0.5;
        }
        let largest = step.iter().fold(0.0f64, |m, s| m.max((s * scale).abs()));
        if !accepted || largest < 1e-9 {
            converged = accepted || largest < 1e-9;
            break;
        }
    }
    LogisticFit {
        intercept: beta[0],
        coefficients: beta[1..].to_vec(),
        iterations,
        converged,
    }
}

/// Solve `A x = b` for a symmetric positive definite `A` (row-major, k×k),
/// overwriting `A` with its Cholesky factor. `None` if `A` is not positive
/// definite.
fn cholesky_solve(a: &mut [f64], b: &[f64], k: usize) -> Option<Vec<f64>> {
    for j in 0..k {
        let mut d = a[j * k + j];
        for p in 0..j {
            d -= a[j * k + p] * a[j * k + p];
        }
        if d <= 0.0 || !d.is_finite() {
            return None;
        }
        let d = d.sqrt();
        a[j * k + j] = d;
        for i in j + 1..k {
            let mut s = a[i * k + j];
            for p in 0..j {
                s -= a[i * k + p] * a[j * k + p];
            }
            a[i * k + j] = s / d;
        }
    }
    let mut y = vec![0.0; k];
    for i in 0..k {
        let mut s = b[i];
        for p in 0..i {
            s -= a[i * k + p] * y[p];
        }
        y[i] = s / a[i * k + i];
    }
    let mut x = vec![0.0; k];
    for i in (0..k).rev() {
        let mut s = y[i];
        for p in i + 1..k {
            s -= a[p * k + i] * x[p];
        }
        x[i] = s / a[i * k + i];
    }
    Some(x)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    #[test]
    fn recovers_known_coefficients() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let n = 20_000;
        let x1: Vec<f64> = (0..n).map(|_| rng.random_range(-2.0..2.0)).collect();
        let x2: Vec<f64> = (0..n).map(|_| rng.random_range(-2.0..2.0)).collect();
        let labels: Vec<u8> = (0..n)
            .map(|i| {
                let p = sigmoid(-0.5 + 1.5 * x1[i] - 0.8 * x2[i]);
                u8::from(rng.random::<f64>() < p)
            })
            .collect();
        let fit = fit(&[x1, x2], &labels, 1e-6);
        assert!(fit.converged);
        assert!((fit.intercept + 0.5).abs() < 0.08, "{fit:?}");
        assert!((fit.coefficients[0] - 1.5).abs() < 0.08, "{fit:?}");
        assert!((fit.coefficients[1] + 0.8).abs() < 0.08, "{fit:?}");
    }

    #[test]
    fn separable_data_stays_finite_under_the_ridge() {
        let x: Vec<f64> = (0..100).map(f64::from).collect();
        let labels: Vec<u8> = (0..100).map(|i| u8::from(i >= 50)).collect();
        let fit = fit(&[x], &labels, 1.0);
        assert!(fit.coefficients[0].is_finite() && fit.coefficients[0] > 0.0);
    }

    #[test]
    fn cholesky_solves_a_small_system() {
        let mut a = vec![4.0, 2.0, 2.0, 3.0];
        let x = cholesky_solve(&mut a, &[2.0, 1.0], 2).unwrap();
        assert!((x[0] - 0.5).abs() < 1e-12 && x[1].abs() < 1e-12);
    }
}
