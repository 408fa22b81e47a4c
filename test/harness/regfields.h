/*
 * regfields.h: the registration fields (child's name and birth date, the
 * parent's phone) a test's POST /payment/orders/create carries, as JSON
 * members without braces: "{" TEST_REGISTRATION ",...}".
 */
#ifndef GYM_TEST_REGFIELDS_H
#define GYM_TEST_REGFIELDS_H

#define TEST_REGISTRATION "\"child_name\":\"王小明\",\"child_birth_date\":\"2019-05-20\"," \
	"\"parent_phone\":\"13800138000\""

#endif
