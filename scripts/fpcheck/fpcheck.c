#include <stdio.h>
#include <math.h>
int main(void) {
    volatile double x = 0.1, acc = 0.0;
    for (int i = 1; i <= 1000; i++) {
        acc += x / i - (x * x) / (i + 0.5);
        x = x * 1.0000001 + 1e-9;
    }
    printf("acc %.17g\n", acc);
    printf("sqrt2 %.17g\n", sqrt(2.0));
    double h = 0.0;
    for (int i = 1; i <= 100000; i++) h += 1.0 / i;
    printf("harmonic %.17g\n", h);
    printf("sin1 %.17g cos1 %.17g\n", sin(1.0), cos(1.0));
    printf("exp1 %.17g log10 %.17g\n", exp(1.0), log(10.0));
    printf("pow %.17g atan %.17g\n", pow(2.5, 3.7), atan2(1.0, 3.0));
    float f = 1.0f / 3.0f;
    printf("float %.9g\n", f);
    long double ld = 1.0L / 3.0L;
    printf("ld %.21Lg\n", ld);
    return 0;
}
