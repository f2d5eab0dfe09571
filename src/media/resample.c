/* resample.c — see resample.h. */
#include "media/resample.h"

#include <math.h>
#include <stdlib.h>

#define RESAMPLE_ZEROS 16        /* half-width of the filter, in zero crossings */
#define RESAMPLE_RES   256       /* table points per zero crossing */
#define RESAMPLE_BETA  8.6       /* Kaiser shape: about 85 dB of stopband */
#define RESAMPLE_CUT   0.90      /* cutoff as a fraction of the lower Nyquist limit */
#define RESAMPLE_TABLE (RESAMPLE_ZEROS * RESAMPLE_RES + 2)

/* Modified Bessel function of the first kind, order 0 (series). */
static double resample_i0(double x)
{
	double sum = 1.0, term = 1.0;
	for (int k = 1; k < 40 && term > 1e-12 * sum; k++) {
		double f = x / (2.0 * k);
		term *= f * f;
		sum += term;
	}
	return sum;
}

/* Kernel indexed by distance in zero crossings: tabulated because a long file
 * needs about 10^9 taps. */
static void resample_kernel(double *k)
{
	double norm = resample_i0(RESAMPLE_BETA);
	for (size_t j = 0; j < RESAMPLE_TABLE; j++) {
		double u = (double)j / RESAMPLE_RES;
		if (u >= RESAMPLE_ZEROS) {
			k[j] = 0.0;
			continue;
		}
		double r = u / RESAMPLE_ZEROS;
		double sinc = u == 0.0 ? 1.0 : sin(M_PI * u) / (M_PI * u);
		k[j] = sinc * resample_i0(RESAMPLE_BETA * sqrt(1.0 - r * r)) / norm;
	}
}

static int16_t resample_clip(double v)
{
	return (int16_t)(v > 32767 ? 32767 : v < -32768 ? -32768 : lrint(v));
}

int16_t *resample_to_8k(const int16_t *in, size_t n, unsigned from, size_t *out_n)
{
	if (from < 1000 || from > 384000)
		return NULL;
	double *kernel = malloc(RESAMPLE_TABLE * sizeof *kernel);
	size_t on = (size_t)((double)n * RESAMPLE_RATE / from);
	int16_t *out = malloc((on ? on : 1) * sizeof *out);
	if (!kernel || !out) {
		free(kernel);
		free(out);
		return NULL;
	}
	resample_kernel(kernel);
	/* Cutoff in cycles per input sample relative to the input Nyquist. */
	double fc = (from > RESAMPLE_RATE ? (double)RESAMPLE_RATE / from : 1.0) * RESAMPLE_CUT;
	double half = RESAMPLE_ZEROS / fc;
	for (size_t i = 0; i < on; i++) {
		double t = (double)i * from / RESAMPLE_RATE;
		long lo = (long)ceil(t - half), hi = (long)floor(t + half);
		if (lo < 0)
			lo = 0;
		if (hi >= (long)n)
			hi = (long)n - 1;
		double acc = 0.0;
		for (long k = lo; k <= hi; k++) {
			double pos = fabs(t - (double)k) * fc * RESAMPLE_RES;
			size_t j = (size_t)pos;
			acc += in[k] * (kernel[j] + (pos - (double)j) * (kernel[j + 1] - kernel[j]));
		}
		out[i] = resample_clip(acc * fc);
	}
	free(kernel);
	*out_n = on;
	return out;
}
